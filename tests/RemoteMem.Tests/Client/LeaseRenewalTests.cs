using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;

namespace RemoteMem.Tests.Client;

/// <summary>Leases with a short lifetime are renewed in the background while I/O keeps running: capabilities change under load and nothing fails.</summary>
/// <remarks>Alone: a one-second lease misses its renewal when other tests' blocking callers hold the thread pool's few threads.</remarks>
[Collection(Isolated.Name)]
public sealed class LeaseRenewalTests
{
    [Fact]
    public async Task Arrays_keep_working_across_many_renewals()
    {
        await using var cluster = await InProcessCluster.StartAsync(donors: 2, donorBytes: 16L << 20, o => o.LeaseTtl = TimeSpan.FromSeconds(1));
        await using var client = await cluster.ConnectAsync();
        await using var array = await client.CreateArrayAsync<int>(200_000, new RemoteArrayOptions { PageSize = 4096, CacheBytes = 8 * 4096, StripeCount = 2, StripeSize = 8192 });
        var firstExpiry = array.Allocation.ExpiresAt;

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var chunk = new int[5000];
        for (int round = 0; clock.Elapsed < TimeSpan.FromSeconds(5); round++)
        {
            int start = round * 7919 % (200_000 - chunk.Length);
            Array.Fill(chunk, round);
            await array.WriteAsync(start, chunk);
            await array.FlushAsync();
            var back = new int[chunk.Length];
            await array.RefreshAsync(start, chunk.Length);
            await array.ReadAsync(start, back);
            Assert.All(back, v => Assert.Equal(round, v));
        }

        // Several lifetimes passed: the lease was renewed (its expiry moved), never lost.
        Assert.True(array.Allocation.ExpiresAt > firstExpiry.AddSeconds(3), $"expiry moved from {firstExpiry:O} only to {array.Allocation.ExpiresAt:O}");
        Assert.False(array.Allocation.IsLost);
    }
}
