namespace RemoteMem.Client.Functions;

/// <summary>
/// Map/reduce where the data lives: run a function on every donor that holds part of an array, over the
/// part it holds, and gather the partial results (the client reduces them).
/// </summary>
public static class NearDataExtensions
{
    /// <summary>
    /// Leases an executor (<paramref name="coresPerDonor"/> cores) on each donor that holds some of the
    /// array's columns, handing it those segments. Each column goes to exactly one donor (the first
    /// holder of its replicas), so every element is seen once. Throws <see cref="InsufficientCapacityException"/>
    /// when a donor that holds data has no free core.
    /// </summary>
    public static async Task<NearDataExecutors> LeaseNearDataAsync<T>(this RemoteArray<T> array, RemoteMemClient client, FunctionPackage package,
        int coresPerDonor = 1, CancellationToken cancellationToken = default) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(client);
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

            return new NearDataExecutors(leases, array.FlushAsync);
        }
        catch
        {
            foreach (var lease in leases) await lease.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// One map, start to end: <see cref="LeaseNearDataAsync"/>, <see cref="NearDataExecutors.MapAsync"/>, and
    /// the leases ended. For repeated maps over the same array, lease once and map many times instead.
    /// </summary>
    public static async Task<IReadOnlyList<TPartial>> MapOnDonorsAsync<T, TIn, TPartial>(
        this RemoteArray<T> array, RemoteMemClient client, FunctionPackage package, string function, TIn input,
        int coresPerDonor = 1, TimeSpan? timeout = null, CancellationToken cancellationToken = default) where T : unmanaged
    {
        await using var executors = await array.LeaseNearDataAsync(client, package, coresPerDonor, cancellationToken).ConfigureAwait(false);
        return await executors.MapAsync<TIn, TPartial>(function, input, timeout, cancellationToken).ConfigureAwait(false);
    }
}
