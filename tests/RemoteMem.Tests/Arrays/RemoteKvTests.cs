using System.Buffers;
using System.Text;
using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;

namespace RemoteMem.Tests.Arrays;

public sealed class RemoteKvTests() : ClusterTest(donors: 1, donorBytes: 32L << 20)
{
    [Fact]
    public async Task A_corrupted_record_is_reported_never_returned()
    {
        await using var kv = await Client.CreateKvAsync(new RemoteKvOptions { Capacity = 1 << 20, PageSize = 4096, CacheBytes = 8 * 4096, MaxValueBytes = 4096 });
        await kv.PutAsync("answer", "forty-two");
        await kv.FlushAsync();

        // Flip one byte of the value in remote memory behind the cache's back, then drop the cached page.
        var log = kv.LogArray;
        long valueAt = 16 + "answer".Length;
        var raw = new byte[1];
        await log.Allocation.ReadAsync(valueAt, raw);
        raw[0] ^= 0xFF;
        await log.Allocation.WriteAsync(valueAt, raw);
        await log.RefreshAsync(0, log.Length);

        await Assert.ThrowsAsync<DataCorruptedException>(() => kv.TryGetStringAsync("answer").AsTask());
    }

    [Fact]
    public async Task Typed_helpers_limits_and_capacity_errors_are_clear()
    {
        await using var kv = await Client.CreateKvAsync(new RemoteKvOptions { Capacity = 64 << 10, PageSize = 4096, CacheBytes = 4 * 4096, MaxKeyBytes = 16, MaxValueBytes = 4096 });
        await kv.PutValueAsync("pi", 3.14159);
        Assert.Equal((true, 3.14159), await kv.TryGetValueAsync<double>("pi"));
        Assert.Equal((false, 0), await kv.TryGetValueAsync<int>("tau"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => kv.TryGetValueAsync<int>("pi").AsTask());

        Assert.Contains("MaxKeyBytes", (await Assert.ThrowsAsync<ArgumentException>(() => kv.PutAsync(new string('k', 17), "v").AsTask())).Message);
        Assert.Contains("MaxValueBytes", (await Assert.ThrowsAsync<ArgumentException>(() => kv.PutAsync("k", new byte[4097]).AsTask())).Message);
        await Assert.ThrowsAsync<ArgumentException>(() => kv.PutAsync(ReadOnlyMemory<byte>.Empty, new byte[1]).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => Client.CreateKvAsync(new RemoteKvOptions { Capacity = 1000 }));

        // Fill with distinct live keys until the log is full: a clear capacity error, not lost data.
        var error = await Record.ExceptionAsync(async () =>
        {
            for (int i = 0; ; i++) await kv.PutAsync($"k{i}", new byte[1000]);
        });
        Assert.IsType<InsufficientCapacityException>(error);
        Assert.Equal((true, 3.14159), await kv.TryGetValueAsync<double>("pi"));
    }

    [Fact]
    public async Task Overwrites_are_reclaimed_by_automatic_compaction()
    {
        await using var kv = await Client.CreateKvAsync(new RemoteKvOptions { Capacity = 256 << 10, PageSize = 4096, CacheBytes = 8 * 4096, MaxValueBytes = 8192, CompactionThreshold = 0.25 });
        for (int round = 0; round < 40; round++)
            for (int k = 0; k < 10; k++)
                await kv.PutAsync($"k{k}", Encoding.UTF8.GetBytes($"round {round} key {k}" + new string('x', 1000)));
        Assert.True(kv.Compactions > 0, "40 overwrites of 10 keys in a 256 KiB log should have compacted");
        Assert.Equal(10, kv.Count);
        for (int k = 0; k < 10; k++) Assert.StartsWith($"round 39 key {k}", await kv.TryGetStringAsync($"k{k}"));
    }
}
