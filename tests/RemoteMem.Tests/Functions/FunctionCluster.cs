using RemoteMem.Client;
using RemoteMem.Client.Functions;
using RemoteMem.Tests.Infrastructure;

namespace RemoteMem.Tests.Functions;

/// <summary>
/// An in-process manager and donors that run real executor processes (`remotemem executor`, from the
/// test's output folder), with the test functions' package.
/// </summary>
internal static class FunctionCluster
{
    /// <summary>The test functions (tests/RemoteMem.TestFunctions) as a package.</summary>
    public static FunctionPackage Package { get; } = FunctionPackage.FromAssembly(typeof(TestFunctions.Echo).Assembly);

    public static Task<InProcessCluster> StartAsync(int donors = 1, int cores = 4, int gpus = 1, string? packageDirectory = null) =>
        InProcessCluster.StartAsync(donors, 64L << 20, configureDonor: d =>
        {
            d.Cores = cores;
            d.Gpus = gpus;
            // Each test run gets its own package folder, so "uploaded once" is measured from empty.
            d.PackageDirectory = packageDirectory ?? Path.Combine(Path.GetTempPath(), "remotemem-test-packages-" + Guid.NewGuid().ToString("n"));
        });

    public static ExecutorLeaseOptions Options(int cores = 1, int gpus = 0, TimeSpan? hotTimeout = null, IReadOnlyList<RemoteAllocation>? nearData = null) => new()
    {
        Package = Package,
        Cores = cores,
        Gpus = gpus,
        HotTimeout = hotTimeout ?? TimeSpan.FromMilliseconds(100),
        NearData = nearData ?? [],
    };

    /// <summary>
    /// Leases as soon as the cores are free: the manager frees a lease's cores when the donor reports its
    /// executor ended, shortly after the lease is disposed (or its executor died).
    /// </summary>
    public static async Task<ExecutorLease> LeaseWhenFreeAsync(RemoteMemClient client, int cores = 1)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await client.LeaseExecutorAsync(Options(cores: cores));
            }
            catch (InsufficientCapacityException) when (attempt < 100)
            {
                await Task.Delay(100);
            }
        }
    }
}
