namespace RemoteMem.Client.Functions;

/// <summary>
/// One executor on each donor that holds part of an array, each seeing the segments it was handed
/// (every column once): lease them once with <see cref="NearDataExtensions.LeaseNearDataAsync"/>, then map
/// as often as you like without paying the executors' start again. Dispose to end the leases.
/// </summary>
public sealed class NearDataExecutors : IAsyncDisposable
{
    private readonly Func<CancellationToken, Task> _flush;

    internal NearDataExecutors(IReadOnlyList<ExecutorLease> leases, Func<CancellationToken, Task> flush)
    {
        Leases = leases;
        _flush = flush;
    }

    /// <summary>The leases, one per donor holding data.</summary>
    public IReadOnlyList<ExecutorLease> Leases { get; }

    /// <summary>
    /// Writes back the array's cached changes (so the functions see them), then invokes the typed
    /// <paramref name="function"/> on every donor at once and returns the partial results, one per donor.
    /// </summary>
    public async Task<TPartial[]> MapAsync<TIn, TPartial>(string function, TIn input, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        await _flush(cancellationToken).ConfigureAwait(false);
        return await Task.WhenAll(Leases.Select(l => l.InvokeAsync<TIn, TPartial>(function, input, timeout, cancellationToken).AsTask())).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lease in Leases) await lease.DisposeAsync().ConfigureAwait(false);
    }
}
