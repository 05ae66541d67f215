using System.Diagnostics;
using RemoteMem.Cli.Internal;
using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Tests.Integration;

/// <summary>The manager killed and restarted mid-run: data stays readable meanwhile, and leases, donors and names survive it.</summary>
[Collection(Processes.Name)]
public sealed class ManagerRestartTests
{
    [Fact]
    public async Task Leases_survive_a_manager_killed_and_restarted_from_its_state_file()
    {
        var state = Path.Combine(Directory.CreateTempSubdirectory("rm-manager-state").FullName, "manager.json");
        await using var cluster = await LocalCluster.StartAsync(2, "64MiB", ["--state-file", state, "--heartbeat-interval", "200ms", "--donor-timeout", "2s", "--lease-ttl", "3s"]);
        await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret });
        const int size = 8 << 20;
        await using var allocation = await client.AllocateAsync(size, new AllocationOptions { StripeCount = 2, StripeSize = 1 << 20 });
        var data = TestPattern.Make(0, size, 6);
        await allocation.WriteAsync(0, data);
        await using var executor = await client.LeaseExecutorAsync(new RemoteMem.Client.Functions.ExecutorLeaseOptions { Package = Functions.FunctionCluster.Package, HotTimeout = TimeSpan.Zero });
        var before = await client.GetStatusAsync();
        await WaitForAsync(() => File.Exists(state), "the state file to be written");
        await Task.Delay(500); // a sweep writes the lease's latest state

        cluster.Manager.Signal(ChildProcess.SigKill);
        await cluster.Manager.WaitForExitAsync();

        // Without a manager the data path goes on: the donors serve the capabilities the client holds.
        var back = new byte[size];
        await allocation.ReadAsync(0, back);
        Assert.True(back.AsSpan().SequenceEqual(data), "reads during the manager's outage differ");
        // Functions too: the client talks to its executor directly.
        Assert.Equal(new byte[] { 5 }, await executor.InvokeAsync("echo", new byte[] { 5 }));

        await cluster.RestartManagerAsync();

        // The donors come back with their ids and segments, the lease with its holder; renewals work
        // again (the lease lifetime is 3 s: waiting 5 s proves the client renewed with the new manager).
        await WaitForAsync(async () => (await client.GetStatusAsync()).Donors.Count(d => d.Health == DonorHealth.Alive) == 2, "both donors to re-register");
        await Task.Delay(5000);
        var after = await client.GetStatusAsync();
        Assert.Equal(before.Donors.Select(d => (d.Id, d.Endpoint)).Order(), after.Donors.Select(d => (d.Id, d.Endpoint)).Order());
        var lease = after.Leases.Single(l => l.Id == allocation.LeaseId);
        Assert.False(lease.Lost, lease.LostReason);

        Array.Clear(back);
        await allocation.ReadAsync(0, back);
        Assert.True(back.AsSpan().SequenceEqual(data), "the data differs after the manager's restart");
        var fresh = TestPattern.Make(0, size, 7);
        await allocation.WriteAsync(0, fresh);
        await allocation.ReadAsync(0, back);
        Assert.True(back.AsSpan().SequenceEqual(fresh));

        // The executor lease survived with its core counted, and its executor still answers.
        Assert.Equal(1, after.Donors.Single(d => d.Id == executor.DonorId).UsedCores);
        Assert.Equal(new byte[] { 6 }, await executor.InvokeAsync("echo", new byte[] { 6 }));

        // New leases get new ids, never a restored one's.
        await using var another = await client.AllocateAsync(1 << 20);
        Assert.True(another.LeaseId > Math.Max(allocation.LeaseId, executor.LeaseId));
    }

    private static async Task WaitForAsync(Func<bool> condition, string what) => await WaitForAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (RemoteMemException)
            {
                // The manager may still be starting.
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(20)) Assert.Fail($"Timed out waiting for {what}.");
            await Task.Delay(100);
        }
    }
}
