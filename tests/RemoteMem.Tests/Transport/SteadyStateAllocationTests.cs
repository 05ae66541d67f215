using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RemoteMem.Tests.Transport;

/// <summary>
/// The data path allocates nothing per operation once warm: client striping, the request slots, the
/// send and receive loops and the donor's handler (all in this process here) together allocate less
/// than one object per operation on average over 10,000 reads and writes, and
/// nearly nothing more for each further operation.
/// </summary>
[Collection(Isolated.Name)]
public sealed class SteadyStateAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Ten_thousand_reads_and_writes_allocate_nothing_per_operation()
    {
#if DEBUG
        // Debug builds compile async methods as classes, which allocate on every call by design.
        Assert.Fail("Measure allocations in a Release build: dotnet test -c Release (./test.sh does).");
#endif
        await using var cluster = await InProcessCluster.StartAsync(donors: 2, donorBytes: 32L << 20, o =>
        {
            // Quiet background: few heartbeats and no renewals while measuring.
            o.LeaseTtl = TimeSpan.FromMinutes(5);
            o.HeartbeatInterval = TimeSpan.FromSeconds(1);
            o.DonorTimeout = TimeSpan.FromSeconds(10);
        });
        await using var client = await cluster.ConnectAsync();
        await using var allocation = await client.AllocateAsync(16 << 20, new AllocationOptions { StripeCount = 2, StripeSize = 64 << 10 });
        var buffer = GC.AllocateArray<byte>(4096, pinned: true);
        var memory = buffer.AsMemory();

        async Task Run(int operations)
        {
            for (int i = 0; i < operations; i++)
            {
                long offset = (i * 7919L * 4096) % (allocation.Length - 4096);
                if (i % 2 == 0) await allocation.WriteAsync(offset, memory);
                else await allocation.ReadAsync(offset, memory);
            }
        }

        using var sampler = new AllocationSampler(); // set up before measuring: enabling events allocates
        await Run(3000); // warm-up: connections, JIT tiers
        // A full collection trims the shared array pools; collect first, then warm the pools again.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        await Run(10_000); // tiered JIT finishes promoting the hot path here
        // Allocations are process-wide: work left over from other tests (a reconnect, a child process's
        // output) can land in a window. Such noise only adds, so the least of a few windows is the measure.
        long small = Math.Min(await Measure(10_000), Math.Min(await Measure(10_000), await Measure(10_000)));
        long large = Math.Min(await Measure(30_000), await Measure(30_000));
        double marginal = (large - small) / 20_000.0;
        output.WriteLine($"10,000 operations: {small} bytes; 30,000 operations: {large} bytes; marginal {marginal:0.00} bytes per operation");
        // The smallest object is 24 bytes: one allocation per operation would be >= 240,000 bytes for
        // 10,000 operations and >= 24 bytes marginal. What remains is background (heartbeats, sweeps,
        // this test's own sampler) and rare pool misses of async state machines.
        Assert.True(small < 10_000 * 24, $"{small} bytes allocated over 10,000 operations; sampled types: {sampler.Report()}");
        Assert.True(marginal < 4, $"{marginal:0.00} bytes allocated per additional operation; sampled types: {sampler.Report()}");

        async Task<long> Measure(int operations)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await Run(operations);
            return GC.GetTotalAllocatedBytes(precise: true) - before;
        }
    }
}
