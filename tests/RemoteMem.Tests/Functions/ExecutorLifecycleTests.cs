using RemoteMem.Client;
using RemoteMem.Wire;

namespace RemoteMem.Tests.Functions;

/// <summary>Executors come and go cleanly: crashes cost only their lease, packages are cached, and no process outlives its lease.</summary>
[Collection(Infrastructure.Processes.Name)]
public sealed class ExecutorLifecycleTests
{
    [Fact]
    public async Task A_function_that_kills_its_process_fails_the_pending_calls_and_the_donor_and_other_leases_carry_on()
    {
        await using var cluster = await FunctionCluster.StartAsync(cores: 4);
        await using var client = await cluster.ConnectAsync();
        await using var bystander = await client.LeaseExecutorAsync(FunctionCluster.Options());
        var doomed = await client.LeaseExecutorAsync(FunctionCluster.Options(cores: 2));
        await doomed.InvokeAsync("echo", new byte[1]); // both workers are up

        var pending = doomed.InvokeAsync("sleep", BitConverter.GetBytes(30_000)).AsTask();
        await Task.Delay(300); // the sleep occupies one worker; the crash goes to the other
        var crash = doomed.InvokeAsync("crash", ReadOnlyMemory<byte>.Empty).AsTask();
        var lost = await Assert.ThrowsAsync<ExecutorLostException>(() => crash.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(doomed.LeaseId, lost.LeaseId);
        Assert.Contains("crashed", lost.Message);
        await Assert.ThrowsAsync<ExecutorLostException>(() => pending.WaitAsync(TimeSpan.FromSeconds(30)));
        await Assert.ThrowsAsync<ExecutorLostException>(() => doomed.InvokeAsync("echo", new byte[1]).AsTask());
        await doomed.DisposeAsync();

        Assert.Equal("alive"u8.ToArray(), await bystander.InvokeAsync("echo", "alive"u8.ToArray()));
        await using (var memory = await client.AllocateAsync(1 << 20))
        {
            await memory.WriteAsync(0, new byte[] { 1, 2, 3 });
        }

        // The crashed lease's cores come back: a lease of the three cores the bystander leaves free fits again.
        await using var fresh = await FunctionCluster.LeaseWhenFreeAsync(client, cores: 3);
        Assert.Equal(new byte[] { 7 }, await fresh.InvokeAsync("echo", new byte[] { 7 }));
    }

    [Fact]
    public async Task A_disposed_lease_has_freed_its_cores_when_DisposeAsync_returns()
    {
        // One core: each lease needs the one before it gone, with no waiting or retrying in between
        // (as the perf suite leases hot executors one after another).
        await using var cluster = await FunctionCluster.StartAsync(cores: 1);
        await using var client = await cluster.ConnectAsync();
        for (int i = 0; i < 6; i++)
        {
            var lease = await client.LeaseExecutorAsync(FunctionCluster.Options(cores: 1, hotTimeout: i % 2 == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.Zero));
            Assert.Equal(new byte[] { (byte)i }, await lease.InvokeAsync("echo", new byte[] { (byte)i }));
            await lease.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_executor_killed_from_outside_fails_its_calls_with_a_clear_error_and_a_new_lease_works()
    {
        await using var cluster = await FunctionCluster.StartAsync(cores: 2);
        await using var client = await cluster.ConnectAsync();
        var lease = await client.LeaseExecutorAsync(FunctionCluster.Options(cores: 2));
        var pending = lease.InvokeAsync("sleep", BitConverter.GetBytes(30_000)).AsTask();
        await Task.Delay(200);

        var pids = ExecutorProcesses.Of(lease.LeaseId);
        Assert.Single(pids);
        System.Diagnostics.Process.GetProcessById(pids[0]).Kill();

        var lost = await Assert.ThrowsAsync<ExecutorLostException>(() => pending.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"function lease {lease.LeaseId}", lost.Message);
        await lease.DisposeAsync();

        await using var next = await FunctionCluster.LeaseWhenFreeAsync(client, cores: 2);
        Assert.Equal(new byte[] { 9 }, await next.InvokeAsync("echo", new byte[] { 9 }));
    }

    [Fact]
    public async Task A_package_carries_its_dependencies_is_uploaded_once_per_donor_and_reused_by_later_leases()
    {
        await using var cluster = await FunctionCluster.StartAsync(cores: 2);
        await using var client = await cluster.ConnectAsync();
        await using (var first = await client.LeaseExecutorAsync(FunctionCluster.Options()))
        {
            Assert.Equal(FunctionCluster.Package.Bytes.Length, first.ColdStart.PackageBytesUploaded);
        }

        await using var second = await client.LeaseExecutorAsync(FunctionCluster.Options());
        Assert.Equal(0, second.ColdStart.PackageBytesUploaded);

        // The package carries the functions' private dependency, loaded into the package's own context.
        var (greeting, context) = await second.InvokeAsync<string, (string, string)>("greet", "lease");
        Assert.Equal("hello lease from RemoteMem.TestFunctions.Dependency", greeting);
        Assert.StartsWith("package:", context);
        Assert.Equal(new byte[] { 1 }, await second.InvokeAsync("echo", new byte[] { 1 }));
        Assert.True(second.ColdStart.ProcessStart + second.ColdStart.PackageLoad > TimeSpan.Zero);
    }

    [Fact]
    public async Task No_executor_outlives_a_client_that_vanished_or_a_donor_that_stopped()
    {
        ulong abandoned, running;
        var cluster = await FunctionCluster.StartAsync(cores: 2);
        await using (var client = await cluster.ConnectAsync())
        {
            var crashedClient = await client.LeaseExecutorAsync(FunctionCluster.Options());
            abandoned = crashedClient.LeaseId;
            Assert.Single(ExecutorProcesses.Of(abandoned));
            crashedClient.DropConnections(); // the sockets close as when a client process dies
            await ExecutorProcesses.WaitGoneAsync(abandoned, TimeSpan.FromSeconds(20));

            var lease = await client.LeaseExecutorAsync(FunctionCluster.Options(cores: 2));
            running = lease.LeaseId;
            Assert.Single(ExecutorProcesses.Of(running));
            await cluster.DisposeAsync(); // the donor stops with the lease still open
        }

        await ExecutorProcesses.WaitGoneAsync(running, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task A_memory_limit_bounds_the_executors_heap_and_a_function_over_it_fails_alone()
    {
        await using var cluster = await FunctionCluster.StartAsync(cores: 2);
        await using var client = await cluster.ConnectAsync();
        var options = FunctionCluster.Options();
        await using var lease = await client.LeaseExecutorAsync(new RemoteMem.Client.Functions.ExecutorLeaseOptions
        {
            Package = options.Package,
            MemoryLimitBytes = 128L << 20,
        });

        Assert.Equal(BitConverter.GetBytes(16), await lease.InvokeAsync("allocate", BitConverter.GetBytes(16)));
        var error = await Assert.ThrowsAsync<FunctionFailedException>(() => lease.InvokeAsync("allocate", BitConverter.GetBytes(1024)).AsTask());
        Assert.Equal("System.OutOfMemoryException", error.RemoteType);
        Assert.Equal(BitConverter.GetBytes(16), await lease.InvokeAsync("allocate", BitConverter.GetBytes(16)));
    }

    [Fact]
    public async Task Leases_beyond_the_free_cores_or_gpus_are_refused_until_cores_are_given_back()
    {
        await using var cluster = await FunctionCluster.StartAsync(cores: 2, gpus: 0);
        await using var client = await cluster.ConnectAsync();
        var all = await client.LeaseExecutorAsync(FunctionCluster.Options(cores: 2));
        var donor = (await client.GetStatusAsync()).Donors.Single();
        Assert.Equal((2, 2, 1), (donor.Cores, donor.UsedCores, donor.Executors));
        var full = await Assert.ThrowsAsync<InsufficientCapacityException>(() => client.LeaseExecutorAsync(FunctionCluster.Options()));
        Assert.Contains("free core", full.Message);
        var noGpu = await Assert.ThrowsAsync<InsufficientCapacityException>(() => client.LeaseExecutorAsync(FunctionCluster.Options(cores: 1, gpus: 1)));
        Assert.Contains("GPU", noGpu.Message);
        await all.DisposeAsync();
        await using var again = await FunctionCluster.LeaseWhenFreeAsync(client, cores: 2);
    }
}
