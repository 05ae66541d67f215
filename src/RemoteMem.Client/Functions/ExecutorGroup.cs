namespace RemoteMem.Client.Functions;

/// <summary>
/// Several executor leases used as one, for fan-out: each call goes to the lease with the fewest calls
/// in flight, and <see cref="InvokeAllAsync"/> spreads a batch over all of them. Dispose it to end every lease.
/// </summary>
public sealed class ExecutorGroup(IReadOnlyList<ExecutorLease> leases) : IAsyncDisposable
{
    public IReadOnlyList<ExecutorLease> Leases { get; } = leases;

    /// <summary>Cores over all leases.</summary>
    public int Cores => Leases.Sum(l => l.Cores);

    public ValueTask<byte[]> InvokeAsync(string function, ReadOnlyMemory<byte> input, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        LeastBusy().InvokeAsync(function, input, timeout, cancellationToken);

    public ValueTask<TOut> InvokeAsync<TIn, TOut>(string function, TIn input, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        LeastBusy().InvokeAsync<TIn, TOut>(function, input, timeout, cancellationToken);

    /// <summary>Invokes <paramref name="function"/> once per input, spread over the leases; results come back in input order.</summary>
    public async Task<TOut[]> InvokeAllAsync<TIn, TOut>(string function, IReadOnlyList<TIn> inputs, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var calls = new Task<TOut>[inputs.Count];
        for (int i = 0; i < inputs.Count; i++) calls[i] = InvokeAsync<TIn, TOut>(function, inputs[i], timeout, cancellationToken).AsTask();
        return await Task.WhenAll(calls).ConfigureAwait(false);
    }

    private ExecutorLease LeastBusy()
    {
        var best = Leases[0];
        foreach (var lease in Leases)
            if (lease.InFlight < best.InFlight) best = lease;
        return best;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lease in Leases) await lease.DisposeAsync().ConfigureAwait(false);
    }
}
