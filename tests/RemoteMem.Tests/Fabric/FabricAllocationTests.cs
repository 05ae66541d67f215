using RemoteMem.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RemoteMem.Tests.Fabric;

/// <summary>
/// A fabric read allocates nothing once warm: pooled operations with native contexts, no per-operation
/// task, and a progress thread that only reads into native buffers. Measured process-wide, because the
/// completion side runs on the progress thread.
/// </summary>
[Collection(Isolated.Name)]
public sealed class FabricAllocationTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(FabricTestEnvironment.Tcp)]
    [InlineData(FabricTestEnvironment.Shm)]
    public async Task Reads_and_writes_allocate_nothing_per_operation(string provider)
    {
        ReleaseBuild.Require();
        using var pair = FabricPair.Open(provider);

        async Task Run(int operations)
        {
            for (int i = 0; i < operations; i++)
            {
                long offset = (i * 7919L * 4096) % (FabricPair.DonorBytes - 4096);
                if (i % 4 == 3) await pair.WriteAsync(offset, 8192, 4096);
                else await pair.ReadAsync(offset, 0, 4096);
            }
        }

        using var sampler = new Transport.AllocationSampler(); // before measuring: enabling events allocates
        await Run(2000);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        await Run(3000); // tiered JIT promotes the hot path here
        // Windows are kept short: on a loaded 2-core box an shm round trip can cost a scheduler time slice.
        const int Window = 4000;
        var windows = new long[5];
        for (int w = 0; w < windows.Length; w++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await Run(Window);
            windows[w] = GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        long least = windows.Min();
        output.WriteLine($"{provider}: bytes allocated per {Window} operations, five windows: {string.Join(", ", windows)}");
        // One 24-byte object per operation would be 96,000 bytes a window; background work (other tests'
        // leftovers, this sampler) stays far below one object per five operations.
        Assert.True(least < Window * 24 / 5, $"{provider}: {least} bytes allocated over {Window} operations at best ({string.Join(", ", windows)}); sampled types: {sampler.Report()}");
    }
}
