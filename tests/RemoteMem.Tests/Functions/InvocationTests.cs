using System.Diagnostics;
using RemoteMem.Client;
using RemoteMem.Wire;

namespace RemoteMem.Tests.Functions;

/// <summary>Invocations against a real executor process: payload sizes, typed calls, errors, deadlines, many in flight.</summary>
[Collection(Infrastructure.Processes.Name)]
public sealed class InvocationTests
{
    [Fact]
    public async Task Round_trips_empty_small_and_one_MiB_payloads()
    {
        await using var cluster = await FunctionCluster.StartAsync();
        await using var client = await cluster.ConnectAsync();
        await using var lease = await client.LeaseExecutorAsync(FunctionCluster.Options());

        foreach (int size in new[] { 0, 1, 100, 1 << 20 })
        {
            var input = new byte[size];
            new Random(size).NextBytes(input);
            var output = await lease.InvokeAsync("echo", input);
            Assert.Equal(input, output);
        }

        Assert.Equal(BitConverter.GetBytes(5), await lease.InvokeAsync("length", new byte[5]));
    }

    [Fact]
    public async Task Typed_invocation_round_trips_through_the_serializer()
    {
        await using var cluster = await FunctionCluster.StartAsync();
        await using var client = await cluster.ConnectAsync();
        await using var lease = await client.LeaseExecutorAsync(FunctionCluster.Options(cores: 2));

        Assert.Equal(42L, await lease.InvokeAsync<(long, long), long>("add", (40L, 2L)));
        Assert.Equal(new[] { 2, 0 }, await lease.InvokeAsync<int, int[]>("describe", 0));
    }

    [Fact]
    public async Task A_throwing_function_returns_its_exception_type_and_message_and_the_lease_keeps_working()
    {
        await using var cluster = await FunctionCluster.StartAsync();
        await using var client = await cluster.ConnectAsync();
        await using var lease = await client.LeaseExecutorAsync(FunctionCluster.Options());

        var error = await Assert.ThrowsAsync<FunctionFailedException>(() => lease.InvokeAsync("throw", "bad input"u8.ToArray()).AsTask());
        Assert.Equal("System.InvalidOperationException", error.RemoteType);
        Assert.Equal("bad input", error.RemoteMessage);
        Assert.Equal("throw", error.Function);
        Assert.Equal("ok"u8.ToArray(), await lease.InvokeAsync("echo", "ok"u8.ToArray()));
    }

    [Fact]
    public async Task A_call_past_its_deadline_fails_with_a_timeout_and_the_worker_is_free_again()
    {
        await using var cluster = await FunctionCluster.StartAsync();
        await using var client = await cluster.ConnectAsync();
        await using var lease = await client.LeaseExecutorAsync(FunctionCluster.Options());

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<FunctionTimeoutException>(() => lease.InvokeAsync("sleep", BitConverter.GetBytes(60_000), TimeSpan.FromMilliseconds(300)).AsTask());
        Assert.Equal(ErrorCode.DeadlineExceeded, error.Code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.Equal("slept"u8.ToArray(), await lease.InvokeAsync("sleep", BitConverter.GetBytes(1)));
        var statistics = await lease.GetStatisticsAsync();
        Assert.Equal(1UL, statistics.DeadlinesExceeded);
    }

    [Fact]
    public async Task Unknown_functions_and_oversized_payloads_are_refused_with_clear_errors()
    {
        await using var cluster = await FunctionCluster.StartAsync();
        await using var client = await cluster.ConnectAsync();
        await using var lease = await client.LeaseExecutorAsync(FunctionCluster.Options());

        var unknown = await Assert.ThrowsAsync<RemoteMemException>(() => lease.InvokeAsync("no-such-function", ReadOnlyMemory<byte>.Empty).AsTask());
        Assert.Equal(ErrorCode.NameNotFound, unknown.Code);
        Assert.Contains("no-such-function", unknown.Message);
        Assert.Contains("echo", unknown.Message);

        var oversized = await Assert.ThrowsAsync<ArgumentException>(() => lease.InvokeAsync("echo", new byte[WireLimits.DefaultMaxFrameSize]).AsTask());
        Assert.Contains("exceeds the executor's limit", oversized.Message);
        Assert.Equal("still fine"u8.ToArray(), await lease.InvokeAsync("echo", "still fine"u8.ToArray()));
    }

    [Fact]
    public async Task Hundreds_of_invocations_in_flight_each_get_their_own_result()
    {
        await using var cluster = await FunctionCluster.StartAsync();
        await using var client = await cluster.ConnectAsync();
        await using var lease = await client.LeaseExecutorAsync(FunctionCluster.Options(cores: 2));

        var calls = Enumerable.Range(0, 500).Select(i => lease.InvokeAsync<(long, long), long>("add", (i, 1_000_000L * i)).AsTask()).ToList();
        var results = await Task.WhenAll(calls);
        for (int i = 0; i < results.Length; i++) Assert.Equal(i + 1_000_000L * i, results[i]);

        var statistics = await lease.GetStatisticsAsync();
        Assert.Equal(500, statistics.Invocations);
        Assert.Equal(500UL, statistics.HotInvocations + statistics.WarmInvocations);
    }

    [Fact]
    public async Task Workers_go_warm_after_the_hot_timeout_and_hot_again_on_the_next_call()
    {
        await using var cluster = await FunctionCluster.StartAsync();
        await using var client = await cluster.ConnectAsync();
        await using var hot = await client.LeaseExecutorAsync(FunctionCluster.Options(hotTimeout: TimeSpan.FromMilliseconds(200)));

        await hot.InvokeAsync("echo", new byte[1]);
        await Task.Delay(600);
        await hot.InvokeAsync("echo", new byte[1]); // arrives warm: the worker blocked after 200 ms
        await hot.InvokeAsync("echo", new byte[1]); // arrives hot: the worker spins again after a call
        var statistics = await hot.GetStatisticsAsync();
        Assert.True(statistics.WarmInvocations >= 1, $"warm {statistics.WarmInvocations}");
        Assert.True(statistics.HotInvocations >= 1, $"hot {statistics.HotInvocations}");

        await using var warm = await client.LeaseExecutorAsync(FunctionCluster.Options(hotTimeout: TimeSpan.Zero));
        for (int i = 0; i < 3; i++) await warm.InvokeAsync("echo", new byte[1]);
        var warmStatistics = await warm.GetStatisticsAsync();
        Assert.Equal(0UL, warmStatistics.HotInvocations);
        Assert.Equal(3UL, warmStatistics.WarmInvocations);
    }
}
