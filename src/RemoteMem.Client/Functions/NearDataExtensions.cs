namespace RemoteMem.Client.Functions;

/// <summary>
/// Map/reduce where the data lives: run a function on every donor that holds part of an array, over the
/// part it holds, and gather the partial results (the client reduces them).
/// </summary>
public static class NearDataExtensions
{
    /// <summary>
    /// Writes back the array's cached changes, then, on each donor holding some of its columns, leases an
    /// executor (<paramref name="coresPerDonor"/> cores) with those segments and invokes the typed
    /// <paramref name="function"/> with <paramref name="input"/>. Each column is handed to exactly one donor
    /// (the first holder of its replicas), so every element is seen once. The leases end before this returns.
    /// Throws <see cref="InsufficientCapacityException"/> when a donor that holds data has no free core.
    /// </summary>
    public static async Task<IReadOnlyList<TPartial>> MapOnDonorsAsync<T, TIn, TPartial>(
        this RemoteArray<T> array, RemoteMemClient client, FunctionPackage package, string function, TIn input,
        int coresPerDonor = 1, TimeSpan? timeout = null, CancellationToken cancellationToken = default) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(client);
        await array.FlushAsync(cancellationToken).ConfigureAwait(false);
        var allocation = array.Allocation;
        var byDonor = allocation.Groups
            .Select((replicas, column) => (Donor: replicas[0].Capability.DonorId, Column: column))
            .GroupBy(p => p.Donor)
            .ToList();

        var leases = new List<ExecutorLease>();
        try
        {
            foreach (var donor in byDonor)
            {
                var lease = await client.LeaseExecutorAsync(new ExecutorLeaseOptions
                {
                    Package = package,
                    Cores = coresPerDonor,
                    NearData = [allocation],
                    NearDataColumns = donor.Select(p => p.Column).ToHashSet(),
                    PreferDonorId = donor.Key,
                }, cancellationToken).ConfigureAwait(false);
                leases.Add(lease);
                if (lease.DonorId != donor.Key)
                    throw new InsufficientCapacityException(Wire.ErrorCode.InsufficientCapacity,
                        $"Donor {donor.Key} holds part of the array but has no {coresPerDonor} free core(s) for a near-data executor.");
            }

            var calls = leases.Select(l => l.InvokeAsync<TIn, TPartial>(function, input, timeout, cancellationToken).AsTask());
            return await Task.WhenAll(calls).ConfigureAwait(false);
        }
        finally
        {
            foreach (var lease in leases) await lease.DisposeAsync().ConfigureAwait(false);
        }
    }
}
