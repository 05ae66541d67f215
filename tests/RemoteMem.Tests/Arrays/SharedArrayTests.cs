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
