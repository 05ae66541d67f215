using System.Diagnostics;
using RemoteMem.Cli.Internal;
using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Tests.Integration;

/// <summary>
/// Donors that must leave (SIGTERM: Slurm preemption, scancel, a stop) drain: their segments move to
/// other donors while clients keep reading and writing, and nothing is lost. With nowhere to go, the
/// holders are told at once.
/// </summary>
[Collection(Processes.Name)]
public sealed class DrainTests
{
    private static readonly string[] FastDetection = ["--heartbeat-interval", "200ms", "--donor-timeout", "2s"];

    [Fact]
    public async Task A_donor_stopped_under_load_moves_its_segments_and_the_client_loses_no_byte()
    {
        await using var cluster = await LocalCluster.StartAsync(3, "64MiB", FastDetection);
        await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret });
        const int size = 32 << 20;
        await using var allocation = await client.AllocateAsync(size, new AllocationOptions { StripeCount = 2, StripeSize = 1 << 20 });
        var model = TestPattern.Make(0, size, 11);
        await allocation.WriteAsync(0, model);

        // A workload that keeps writing and verifying random ranges against a local model throughout.
        using var stop = new CancellationTokenSource();
        var workload = VerifyingWorkload.Start(allocation, model, seed: 5, maxLength: 256 << 10, stop.Token);

        var leaving = cluster.Donors.First(d => allocation.Donors.Contains(d.Endpoint));
        await Task.Delay(300);
        int exitCode = await leaving.StopAsync(TimeSpan.FromSeconds(30));
        Assert.True(exitCode == 0, $"the donor exited with {exitCode}:{Environment.NewLine}{leaving.LogTail}");
        long atExit = workload.Operations;
        await Task.Delay(300);
        stop.Cancel();
        await workload.Running; // any error of the workload (an exception, a wrong byte) fails the test here
        Assert.True(workload.Operations > atExit, "the workload made no progress after the donor left");

        var status = await client.GetStatusAsync();
        var health = status.Donors.Single(d => d.Endpoint == leaving.Endpoint).Health;
        Assert.True(health == DonorHealth.Left, $"the donor is {health}, not Left. Donor:{Environment.NewLine}{leaving.LogTail}{Environment.NewLine}Manager:{Environment.NewLine}{cluster.Manager.LogTail}");
        var lease = status.Leases.Single(l => l.Id == allocation.LeaseId);
        Assert.False(lease.Lost, lease.LostReason);
        Assert.DoesNotContain(status.Donors.Single(d => d.Endpoint == leaving.Endpoint).Id, lease.DonorIds);
        Assert.DoesNotContain(leaving.Endpoint, allocation.Donors);

        var back = new byte[size];
        await allocation.ReadAsync(0, back);
        Assert.True(back.AsSpan().SequenceEqual(model), "after the move the lease's bytes differ from what was written");
    }

    [Fact]
    public async Task An_operator_drains_a_donor_by_id_and_the_donor_exits_with_nothing_lost()
    {
        await using var cluster = await LocalCluster.StartAsync(2, "64MiB", FastDetection);
        await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret });
        await using var allocation = await client.AllocateAsync(8 << 20, new AllocationOptions { StripeCount = 1 });
        var data = TestPattern.Make(0, 8 << 20, 21);
        await allocation.WriteAsync(0, data);
        var donor = (await client.GetStatusAsync()).Donors.Single(d => d.Endpoint == allocation.Donors[0]);
        var process = cluster.Donors.Single(d => d.Endpoint == donor.Endpoint);

        var run = await DotnetProgram.RunAsync(typeof(LocalCluster).Assembly.Location, cluster.SecretText, TimeSpan.FromMinutes(2),
            "donor", "drain", donor.Id.ToString(), "--manager", cluster.ManagerEndpoint);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Contains($"Donor {donor.Id} has left", run.Stdout);
        Assert.Contains("leases lost with it: 0", run.Stdout);

        using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(20))) await process.WaitForExitAsync(exit.Token);
        var back = new byte[8 << 20];
        await allocation.ReadAsync(0, back);
        Assert.True(back.AsSpan().SequenceEqual(data), "the data differs after the operator's drain");
        Assert.DoesNotContain(donor.Endpoint, allocation.Donors);

        var unknown = await DotnetProgram.RunAsync(typeof(LocalCluster).Assembly.Location, cluster.SecretText, TimeSpan.FromMinutes(1),
            "donor", "drain", "999", "--manager", cluster.ManagerEndpoint);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("Donor 999 is not alive here", unknown.Stderr);
    }

    [Fact]
    public async Task With_nowhere_to_go_a_lease_that_allows_it_is_spilled_to_a_file_and_keeps_working()
    {
        var spill = Directory.CreateTempSubdirectory("rm-spill").FullName;
        await using var cluster = await LocalCluster.StartAsync(1, "32MiB", [.. FastDetection, "--spill-dir", spill]);
        await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret });
        await using var kept = await client.AllocateAsync(8 << 20, new AllocationOptions { AllowSpill = true });
        await using var dropped = await client.AllocateAsync(4 << 20);
        var data = TestPattern.Make(0, 8 << 20, 31);
        await kept.WriteAsync(0, data);

        // The only donor leaves: there is no other donor to move to.
        Assert.Equal(0, await cluster.Donors[0].StopAsync(TimeSpan.FromSeconds(30)));

        var back = new byte[8 << 20];
        await kept.ReadAsync(0, back); // renews, finds the file, reads it
        Assert.True(back.AsSpan().SequenceEqual(data), "the spilled data differs");
        Assert.Single(Directory.GetFiles(spill));
        Assert.StartsWith("file:", kept.Donors[0]);
        var update = TestPattern.Make(4096, 64 << 10, 32);
        await kept.WriteAsync(4096, update);
        var part = new byte[64 << 10];
        kept.Read(4096, part);
        Assert.Equal(update, part);
        await Assert.ThrowsAsync<LeaseLostException>(() => dropped.ReadAsync(0, new byte[16]).AsTask()); // it did not opt in

        await kept.DisposeAsync();
        var clock = Stopwatch.StartNew();
        while (Directory.GetFiles(spill).Length > 0 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(100);
        Assert.Empty(Directory.GetFiles(spill)); // released: the file is gone
    }

    [Fact]
    public async Task A_segment_with_nowhere_to_go_loses_its_lease_and_the_holder_is_told_why()
    {
        await using var cluster = await LocalCluster.StartAsync(2, "16MiB", FastDetection);
        await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret });
        // 12 MiB on each donor: neither has room for the other's.
        await using var first = await client.AllocateAsync(12 << 20, new AllocationOptions { StripeCount = 1 });
        await using var second = await client.AllocateAsync(12 << 20, new AllocationOptions { StripeCount = 1 });
        Assert.NotEqual(first.Donors[0], second.Donors[0]);

        var leaving = cluster.Donors.Single(d => d.Endpoint == first.Donors[0]);
        Assert.Equal(0, await leaving.StopAsync(TimeSpan.FromSeconds(30)));

        var clock = Stopwatch.StartNew();
        while (!first.IsLost && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(50);
        var lost = await Assert.ThrowsAsync<LeaseLostException>(() => first.ReadAsync(0, new byte[16]).AsTask());
        Assert.Contains("could not move: no donor has 12 MiB free", lost.Message);
        await second.WriteAsync(0, new byte[1 << 20]); // the other tenant is untouched
    }
}
