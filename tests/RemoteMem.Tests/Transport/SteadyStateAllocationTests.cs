using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RemoteMem.Tests.Transport;

/// <summary>
/// The data path allocates nothing per operation once warm: client striping, the request slots, the
/// send and receive loops and the donor's handler (all in this process here) together allocate less
/// than one small object per five operations over 10,000 reads and writes.
/// </summary>
[Collection(Isolated.Name)]
public sealed class SteadyStateAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Ten_thousand_reads_and_writes_allocate_nothing_per_operation()
    {
        ReleaseBuild.Require();
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
        var (least, windows) = await AllocationWindows.MeasureAsync(Run, 10_000, warmup: 3000);
        output.WriteLine($"bytes allocated per 10,000 operations, five windows: {string.Join(", ", windows)}");
        // The smallest object is 24 bytes: one allocation per operation would put at least 240,000 bytes
        // in every window. What remains is background (heartbeats, sweeps, this test's sampler) and rare
        // pool misses of async state machines, under one 24-byte object per five operations.
        Assert.True(least < 48_000, $"{least} bytes allocated over 10,000 operations at best ({string.Join(", ", windows)}); sampled types: {sampler.Report()}");
    }
}
