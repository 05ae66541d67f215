using System.Diagnostics;
using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Wire;

namespace RemoteMem.Tests.Arrays;

/// <summary>Named sharing: publish, open by name in other processes and clients, flush-to-publish and refresh, holders keep the lease alive.</summary>
public sealed class SharedArrayTests : IAsyncLifetime
{
    private InProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await InProcessCluster.StartAsync(donors: 2, donorBytes: 32L << 20);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Another_process_opens_a_published_array_read_only_and_sees_the_data()
    {
        await using var client = await _cluster.ConnectAsync();
        await using var array = await client.CreateArrayAsync<long>(300_000, new RemoteArrayOptions { CacheBytes = 1 << 20 });
        for (long i = 0; i < array.Length; i += 10_000)
            array.Write(i, Enumerable.Range(0, 10_000).Select(k => (i + k) * 3 + 1).ToArray());
        await array.FlushAsync();
        await array.PublishAsync("rank0/matrix");

        var reader = await DotnetProgram.RunAsync("SharedArray.dll", _cluster.SecretText, TimeSpan.FromMinutes(2), _cluster.ManagerEndpoint, "rank0/matrix");
        Assert.True(reader.ExitCode == 0, reader.Stdout + reader.Stderr);
        Assert.Contains("verified 300000 elements", reader.Stdout);
    }

    [Fact]
    public async Task A_scanning_reader_claims_reads_sent_ahead_but_never_across_a_refresh_or_its_own_write()
    {
        // The reader's connections hold a read-ahead's answer for as long as the test needs (not 2 ms), so
        // a read sent ahead is still there to claim after the writes below, unless the array refuses it.
        var readerOptions = _cluster.ClientOptions();
        readerOptions.ReadAheadHold = TimeSpan.FromSeconds(3);
        await using var a = await RemoteMemClient.ConnectAsync(readerOptions);
        await using var b = await _cluster.ConnectAsync();
        const int Block = 256 << 10;
        var options = new RemoteArrayOptions { CacheBytes = 1 << 20, StripeCount = 2, DirectTransferBytes = Block };
        await using var reader = await a.CreateArrayAsync<byte>(64L * Block, options);
        var data = new byte[reader.Length];
        new Random(5).NextBytes(data);
        await reader.WriteAsync(0, data);
        await reader.PublishAsync("scanned");
        await using var writer = await b.OpenArrayAsync<byte>("scanned", writable: true, options);

        // A scan in blocks of the direct size: each block after the first may come from a read sent ahead.
        var block = new byte[Block];
        long offset = 0;
        async Task ReadNextAsync()
        {
            Assert.True(offset < reader.Length - 4 * Block, "no read-ahead was in flight for the whole scan");
            await reader.ReadAsync(offset, block);
            Assert.True(data.AsSpan((int)offset, Block).SequenceEqual(block), $"block at {offset} differs");
            offset += Block;
        }

        while (offset < reader.Length / 2) await ReadNextAsync();
        Assert.True(reader.ReadAhead.Claimed > 0, "no block of the scan was read ahead");

        // Another holder changes the block that is read ahead and flushes: after a refresh the reader sees
        // the change, not the bytes sent ahead before it. (Read on until one is in flight: a loaded
        // machine may have dropped one, and the scan backs off for a few blocks.)
        while (reader.ReadAhead.PendingBlocks == 0) await ReadNextAsync();
        var theirs = Enumerable.Repeat((byte)0xAB, Block).ToArray();
        await writer.WriteAsync(offset, theirs);
        await writer.FlushAsync();
        await reader.RefreshAsync(offset, Block);
        await reader.ReadAsync(offset, block);
        Assert.True(theirs.AsSpan().SequenceEqual(block), "the reader saw the bytes read ahead before its refresh");
        offset += Block;

        // Its own write to the block read ahead is seen too.
        while (reader.ReadAhead.PendingBlocks == 0) await ReadNextAsync();
        var ours = Enumerable.Repeat((byte)0xCD, Block).ToArray();
        await reader.WriteAsync(offset, ours);
        await reader.ReadAsync(offset, block);
        Assert.True(ours.AsSpan().SequenceEqual(block), "the reader saw the bytes read ahead before its own write");
    }

    [Fact]
    public async Task Writers_publish_by_flushing_readers_see_it_after_refresh_and_the_last_holder_frees_the_lease()
    {
        await using var a = await _cluster.ConnectAsync();
        await using var b = await _cluster.ConnectAsync();
        var options = new RemoteArrayOptions { PageSize = 4096, CacheBytes = 64 * 4096 };
        var first = await a.CreateArrayAsync<int>(100_000, options);
        first.Fill(1);
        await first.FlushAsync();
        await first.PublishAsync("shared");

        var second = await b.OpenArrayAsync<int>("shared", writable: true, options);
        Assert.Equal(first.Length, second.Length);
        Assert.Equal(1, second[99_999]);

        // b changes a range and flushes; a still has its old copy cached until it refreshes.
        Assert.Equal(1, first[50_000]);
        second.Write(50_000, Enumerable.Repeat(2, 1000).ToArray());
        await second.FlushAsync();
        Assert.Equal(1, first[50_000]);
        await first.RefreshAsync(50_000, 1000);
        Assert.Equal(2, first[50_000]);
        Assert.Equal(2, first[50_999]);

        // The wrong element type, an unknown name and a taken name are refused clearly.
        await Assert.ThrowsAsync<InvalidOperationException>(() => b.OpenArrayAsync<long>("shared"));
        Assert.Equal(ErrorCode.NameNotFound, (await Assert.ThrowsAsync<RemoteMemException>(() => b.OpenArrayAsync<int>("nobody"))).Code);
        await using (var other = await a.CreateArrayAsync<int>(10))
            Assert.Equal(ErrorCode.NameExists, (await Assert.ThrowsAsync<RemoteMemException>(() => other.PublishAsync("shared"))).Code);

        // The creator lets go; the data lives on for the other holder.
        await first.DisposeAsync();
        Assert.Equal(2, second[50_500]);
        var status = await a.GetStatusAsync();
        Assert.Single(status.Leases, l => l.Name == "shared" && l.Holders == 1);

        // The last holder lets go: the lease and its name are gone.
        await second.DisposeAsync();
        status = await a.GetStatusAsync();
        Assert.DoesNotContain(status.Leases, l => l.Name == "shared");
        await Assert.ThrowsAsync<RemoteMemException>(() => b.OpenArrayAsync<int>("shared"));
    }
}
