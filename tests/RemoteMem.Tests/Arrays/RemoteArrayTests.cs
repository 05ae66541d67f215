using RemoteMem.Cli.Internal;
using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;

namespace RemoteMem.Tests.Arrays;

public sealed class RemoteArrayTests() : ClusterTest(donors: 2, donorBytes: 32L << 20)
{
    private static long Expected(long index) => index * 2654435761L ^ 0x5DEECE66DL;

    [Theory]
    [InlineData(0)] // every transfer through the cache
    [InlineData(4096)] // whole uncached pages straight to and from the donors, next to cached ones
    public async Task Concurrent_writers_on_disjoint_ranges_and_readers_on_overlapping_ones_agree_with_the_sequential_model(int directTransferBytes)
    {
        const int length = 200_000; // 1.6 MB of longs through a 32 KiB cache
        await using var array = await Client.CreateArrayAsync<long>(length, new RemoteArrayOptions
        {
            PageSize = 4096, CacheBytes = 8 * 4096, StripeCount = 2, StripeSize = 8192, DirectTransferBytes = directTransferBytes,
        });
        using var writersDone = new CancellationTokenSource();

        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            int start = w * length / 4, end = (w + 1) * length / 4;
            var chunks = Enumerable.Range(0, (end - start + 999) / 1000).OrderBy(_ => random.Next()).ToList();
            foreach (var c in chunks)
            {
                int from = start + c * 1000, count = Math.Min(1000, end - from);
                var data = Enumerable.Range(from, count).Select(i => Expected(i)).ToArray();
                if (c % 2 == 0) await array.WriteAsync(from, data);
                else array.Write(from, data);
            }
        })).ToArray();

        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(async () =>
        {
            var random = new Random(100 + r);
            var buffer = new long[5000];
            while (!writersDone.IsCancellationRequested)
            {
                int from = random.Next(0, length - buffer.Length);
                await array.ReadAsync(from, buffer);
                for (int i = 0; i < buffer.Length; i++)
                    Assert.True(buffer[i] == 0 || buffer[i] == Expected(from + i), $"element {from + i} holds {buffer[i]}, neither 0 nor its value");
            }
        })).ToArray();

        await Task.WhenAll(writers);
        writersDone.Cancel();
        await Task.WhenAll(readers);

        var all = new long[length];
        await array.ReadAsync(0, all);
        for (int i = 0; i < length; i++) Assert.True(all[i] == Expected(i), $"element {i} holds {all[i]}");
        await array.FlushAsync();
        var remote = new byte[length * sizeof(long)];
        await array.Allocation.ReadAsync(0, remote);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(remote).SequenceEqual(all), "remote bytes differ after flush");
    }

    [Fact]
    public async Task A_span_scan_in_direct_blocks_reads_ahead_and_sees_every_byte()
    {
        const int Block = 64 << 10;
        await using var array = await Client.CreateArrayAsync<byte>(128L * Block, new RemoteArrayOptions
        {
            PageSize = 4096, CacheBytes = 16 * 4096, StripeCount = 2, StripeSize = Block, DirectTransferBytes = Block,
        });
        var data = new byte[array.Length];
        new Random(11).NextBytes(data);
        array.Write(0, data);
        var block = new byte[Block];
        for (int offset = 0; offset < data.Length; offset += Block)
        {
            array.Read(offset, block);
            Assert.True(data.AsSpan(offset, Block).SequenceEqual(block), $"block at {offset} differs");
        }

        Assert.True(array.ReadAhead.Claimed > 0, "no block of the span scan was read ahead");
    }

    [Theory]
    [InlineData(4, 4)]  // DirectReadAheadBytes of four blocks: four in flight
    [InlineData(1, 1)]  // less than one block still reads one ahead
    [InlineData(0, 0)]  // 0 turns it off
    public async Task An_async_scan_keeps_as_many_blocks_in_flight_as_DirectReadAheadBytes_holds(int aheadBlocks, int expected)
    {
        const int Block = 64 << 10;
        await using var array = await Client.CreateArrayAsync<byte>(64L * Block, new RemoteArrayOptions
        {
            PageSize = 4096, CacheBytes = 16 * 4096, StripeCount = 2, StripeSize = Block, DirectTransferBytes = Block,
            DirectReadAheadBytes = aheadBlocks == 1 ? Block / 2 : aheadBlocks * Block,
        });
        var data = new byte[array.Length];
        new Random(12).NextBytes(data);
        await array.WriteAsync(0, data);
        await array.FlushAsync();
        var block = new byte[Block];
        int most = 0;
        for (int offset = 0; offset < data.Length; offset += Block)
        {
            await array.ReadAsync(offset, block);
            Assert.True(data.AsSpan(offset, Block).SequenceEqual(block), $"block at {offset} differs");
            most = Math.Max(most, array.ReadAhead.PendingBlocks);
        }

        Assert.Equal(expected, most);
        Assert.Equal(0, array.ReadAhead.PendingBlocks); // none past the end of the array
        if (expected > 0) Assert.True(array.ReadAhead.Claimed > 0, "no block of the scan was read ahead");
        else Assert.Equal(0, array.ReadAhead.Claimed);
    }

    [Fact]
    public async Task Fill_copy_indexer_and_sequential_scans_with_read_ahead()
    {
        await using var source = await Client.CreateArrayAsync<int>(50_000, new RemoteArrayOptions { PageSize = 4096, CacheBytes = 16 * 4096, ReadAheadPages = 4 });
        await using var target = await Client.CreateArrayAsync<int>(60_000, new RemoteArrayOptions { PageSize = 8192, CacheBytes = 4 * 8192 });
        source.Fill(7);
        source[49_999] = 42;
        await source.CopyToAsync(target);
        var scan = new int[1000];
        for (int i = 0; i < 50_000; i += scan.Length)
        {
            target.Read(i, scan);
            Assert.All(scan.AsSpan(0, Math.Min(scan.Length, 49_999 - i)).ToArray(), v => Assert.Equal(7, v));
        }

        Assert.Equal(42, target[49_999]);
        Assert.Equal(0, target[50_000]);
    }

    [Fact]
    public async Task Pages_read_while_a_direct_write_is_in_flight_are_not_left_stale_in_the_cache()
    {
        const int length = 1 << 20; // 4 MiB of ints: 1,024 pages of 4 KiB, all of which the cache can hold
        await using var array = await Client.CreateArrayAsync<int>(length, new RemoteArrayOptions
        {
            PageSize = 4096, CacheBytes = length * 4L, DirectTransferBytes = 4096, StripeCount = 2, StripeSize = 64 << 10,
        });
        var data = new int[length];
        var back = new int[length];
        for (int round = 1; round <= 8; round++)
        {
            await array.RefreshAsync(0, length); // nothing cached: the write goes straight to the donors
            Array.Fill(data, round);
            var write = array.WriteAsync(0, data).AsTask(); // marks its pages before it first waits
            using var stop = new CancellationTokenSource();
            // Misses while the write is in flight must wait for it, not cache the bytes it replaces.
            var reader = Task.Run(() =>
            {
                var random = new Random(round);
                while (!stop.IsCancellationRequested)
                {
                    int value = array[random.Next(length)];
                    Assert.True(value == round || value == round - 1, $"read {value} in round {round}");
                }
            });
            await write;
            await Task.Delay(5);
            stop.Cancel();
            await reader;
            await array.ReadAsync(0, back);
            Assert.True(back.AsSpan().SequenceEqual(data), $"round {round}: element {back.AsSpan().IndexOfAnyExcept(round)} holds {back.FirstOrDefault(v => v != round)}");
        }
    }

    [Fact]
    public async Task Bad_arguments_fail_at_the_call_with_clear_exceptions()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Client.CreateArrayAsync<int>(0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Client.CreateArrayAsync<int>(-5));
        var pageSize = await Assert.ThrowsAsync<ArgumentException>(() => Client.CreateArrayAsync<int>(100, new RemoteArrayOptions { PageSize = 5000 }));
        Assert.Contains("power of two", pageSize.Message);
        var cache = await Assert.ThrowsAsync<ArgumentException>(() => Client.CreateArrayAsync<int>(100, new RemoteArrayOptions { PageSize = 4096, CacheBytes = 1000 }));
        Assert.Contains("smaller than one page", cache.Message);
        var direct = await Assert.ThrowsAsync<ArgumentException>(() => Client.CreateArrayAsync<int>(100, new RemoteArrayOptions { DirectTransferBytes = -1 }));
        Assert.Contains("DirectTransferBytes", direct.Message);
        var ahead = await Assert.ThrowsAsync<ArgumentException>(() => Client.CreateArrayAsync<int>(100, new RemoteArrayOptions { DirectReadAheadBytes = -1 }));
        Assert.Contains("DirectReadAheadBytes", ahead.Message);

        await using var array = await Client.CreateArrayAsync<int>(10_000, new RemoteArrayOptions { PageSize = 4096, CacheBytes = 4 * 4096 });
        Assert.Throws<ArgumentOutOfRangeException>(() => array[10_000]);
        Assert.Throws<ArgumentOutOfRangeException>(() => array[-1] = 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => array.Read(9_990, new int[11]));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => array.WriteAsync(long.MaxValue / 2, new int[1]).AsTask());
        var crossing = Assert.Throws<ArgumentException>(() => { using var pin = array.Pin(1020, 8); });
        Assert.Contains("page boundary", crossing.Message);
    }
}

/// <summary>A donor process killed under a running array: the next access fails with the documented error, never with zeros.</summary>
[Collection(Processes.Name)]
public sealed class RemoteArrayFailureTests
{
    [Fact]
    public async Task A_killed_donor_makes_the_next_access_fail_with_lease_lost()
    {
        await using var cluster = await LocalCluster.StartAsync(2, "64MiB", ["--heartbeat-interval", "200ms", "--donor-timeout", "2s"]);
        await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret, DataTimeout = TimeSpan.FromSeconds(8) });
        await using var array = await client.CreateArrayAsync<int>(1 << 20, new RemoteArrayOptions { PageSize = 4096, CacheBytes = 16 * 4096, StripeCount = 2, StripeSize = 4096 });
        var data = Enumerable.Range(1, 1 << 20).ToArray();
        await array.WriteAsync(0, data);
        await array.FlushAsync();

        cluster.Donors[1].Signal(ChildProcess.SigKill);
        await cluster.Donors[1].WaitForExitAsync();

        // Every page, cached or not, on either donor: either the right value or LeaseLostException.
        var back = new int[1024];
        var error = await Record.ExceptionAsync(async () =>
        {
            for (int i = 0; i < data.Length; i += back.Length)
            {
                await array.ReadAsync(i, back);
                Assert.True(data.AsSpan(i, back.Length).SequenceEqual(back), $"elements at {i} read wrong data after the donor died");
            }
        });
        Assert.IsType<LeaseLostException>(error);
        await Assert.ThrowsAsync<LeaseLostException>(() => array.ReadAsync(0, back).AsTask());
        Assert.Throws<LeaseLostException>(() => array[5]);
    }

    [Fact]
    public async Task A_killed_donor_under_a_key_value_store_fails_the_next_access_with_lease_lost()
    {
        await using var cluster = await LocalCluster.StartAsync(2, "64MiB", ["--heartbeat-interval", "200ms", "--donor-timeout", "2s"]);
        await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret, DataTimeout = TimeSpan.FromSeconds(8) });
        await using var kv = await client.CreateKvAsync(new RemoteKvOptions { Capacity = 8 << 20, CacheBytes = 4 * 4096, PageSize = 4096, MaxValueBytes = 4096, StripeCount = 2 });
        for (int i = 0; i < 2000; i++) await kv.PutAsync($"key{i}", $"value{i}");
        await kv.FlushAsync();

        cluster.Donors[0].Signal(ChildProcess.SigKill);
        await cluster.Donors[0].WaitForExitAsync();

        // Until the client learns of the loss, lookups of data on the surviving donor (or in the cache)
        // return the right values; anything else fails as documented. Never a wrong value.
        var error = await Record.ExceptionAsync(async () =>
        {
            for (int i = 0; i < 2000; i++) Assert.Equal($"value{i}", await kv.TryGetStringAsync($"key{i}"));
        });
        Assert.True(error is null or LeaseLostException, $"unexpected {error}");

        // The loss reaches the client (event or failed request) within the detection time; then every access fails.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (error is null && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
            error = await Record.ExceptionAsync(() => kv.TryGetStringAsync("key1999").AsTask());
        }

        Assert.IsType<LeaseLostException>(error);
        await Assert.ThrowsAsync<LeaseLostException>(() => kv.PutAsync("after", "death").AsTask());
    }
}
