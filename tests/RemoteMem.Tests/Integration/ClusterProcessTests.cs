using System.Diagnostics;
using RemoteMem.Cli.Internal;
using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Tests.Integration;

/// <summary>A real manager and real donor processes (the `remotemem` binary) on loopback, and a client in the test.</summary>
[Collection(Processes.Name)]
public sealed class ClusterProcessTests
{
    private static readonly string[] FastDetection = ["--heartbeat-interval", "200ms", "--donor-timeout", "2s"];

    private static async Task<RemoteMemClient> ConnectAsync(LocalCluster cluster, TimeSpan? dataTimeout = null) =>
        await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions
        {
            Manager = cluster.ManagerEndpoint,
            Secret = cluster.Secret,
            DataTimeout = dataTimeout ?? TimeSpan.FromSeconds(10),
        });

    private static async Task<StatusReport> WaitForAsync(RemoteMemClient client, Func<StatusReport, bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var status = await client.GetStatusAsync();
            if (condition(status)) return status;
            if (deadline.Elapsed > TimeSpan.FromSeconds(20)) Assert.Fail($"timed out waiting for: {what}; last status {status.ToJson()}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Striped_io_across_two_donor_processes_round_trips()
    {
        await using var cluster = await LocalCluster.StartAsync(2, "128MiB");
        await using var client = await ConnectAsync(cluster);
        const int size = 48 << 20;
        await using var allocation = await client.AllocateAsync(size, new AllocationOptions { StripeCount = 2, StripeSize = 256 << 10 });
        Assert.Equal(2, allocation.DonorCount);
        Assert.Equal(cluster.Donors.Select(d => d.Endpoint).Order(), allocation.Donors.Order());

        // Four writers on disjoint quarters, async and blocking APIs mixed; unaligned sizes cross stripes.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(q => Task.Run(async () =>
        {
            long start = (long)q * size / 4;
            for (long offset = start; offset < start + size / 4; offset += 3_000_001)
            {
                int n = (int)Math.Min(3_000_001, start + size / 4 - offset);
                var data = TestPattern.Make(offset, n, seed: 7);
                if (q % 2 == 0) await allocation.WriteAsync(offset, data);
                else allocation.Write(offset, data);
            }
        })));

        var all = new byte[size];
        await allocation.ReadAsync(0, all);
        for (int i = 0; i < size; i++)
            if (all[i] != TestPattern.At(i, 7)) Assert.Fail($"byte {i} differs after striped round trip");

        var status = await client.GetStatusAsync();
        Assert.Equal(2, status.Donors.Count(d => d.Health == DonorHealth.Alive && d.LeasedBytes == size / 2));
        Assert.Single(status.Leases, l => l.Id == allocation.LeaseId && l.DonorIds.Count == 2);
    }

    [Fact]
    public async Task A_killed_donor_makes_its_leases_lost_without_a_hang_and_is_marked_dead()
    {
        await using var cluster = await LocalCluster.StartAsync(2, "64MiB", FastDetection);
        await using var client = await ConnectAsync(cluster, TimeSpan.FromSeconds(8));
        await using var allocation = await client.AllocateAsync(8 << 20, new AllocationOptions { StripeCount = 2, StripeSize = 64 << 10 });
        await allocation.WriteAsync(0, TestPattern.Make(0, 8 << 20, 1));

        var victim = cluster.Donors[1];
        victim.Signal(ChildProcess.SigKill);
        await victim.WaitForExitAsync();

        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<LeaseLostException>(() => allocation.ReadAsync(0, new byte[8 << 20]).AsTask());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"lease loss took {clock.Elapsed}");
        Assert.Equal(allocation.LeaseId, ex.LeaseId);
        Assert.True(allocation.IsLost);

        var status = await WaitForAsync(client, s => s.Donors.Any(d => d.Endpoint == victim.Endpoint && d.Health == DonorHealth.Dead), "victim marked dead");
        Assert.Contains(status.Donors, d => d.Endpoint == cluster.Donors[0].Endpoint && d.Health == DonorHealth.Alive);

        // The surviving donor keeps serving new leases.
        await using var fresh = await client.AllocateAsync(1 << 20);
        await fresh.WriteAsync(0, TestPattern.Make(0, 1 << 20, 2));
        var back = new byte[1 << 20];
        await fresh.ReadAsync(0, back);
        Assert.Equal(TestPattern.Make(0, 1 << 20, 2), back);
    }

    [Fact]
    public async Task A_hung_donor_costs_at_most_the_data_timeout_then_a_documented_error()
    {
        await using var cluster = await LocalCluster.StartAsync(1, "32MiB", FastDetection);
        await using var client = await ConnectAsync(cluster, TimeSpan.FromSeconds(4));
        await using var allocation = await client.AllocateAsync(1 << 20);
        await allocation.WriteAsync(0, new byte[1 << 20]);

        cluster.Donors[0].Signal(ChildProcess.SigStop); // a hung node: the process is alive, its sockets stay open
        var clock = Stopwatch.StartNew();
        var error = await Record.ExceptionAsync(() => allocation.ReadAsync(0, new byte[1 << 20]).AsTask());
        Assert.True(error is LeaseLostException or DonorUnreachableException, $"got {error?.GetType().Name ?? "no error"}: {error?.Message}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4 + 4), $"the read took {clock.Elapsed} with a 4 s data timeout");
        await WaitForAsync(client, s => s.Donors.Single().Health == DonorHealth.Dead, "hung donor declared dead");
        cluster.Donors[0].Signal(ChildProcess.SigCont);
    }

    [Fact]
    public async Task A_lease_that_is_not_renewed_is_reclaimed_and_the_range_reads_zeros_when_leased_again()
    {
        await using var cluster = await LocalCluster.StartAsync(1, "16MiB", FastDetection);
        await using var client = await ConnectAsync(cluster);
        var lapsing = await client.AllocateAsync(4 << 20, new AllocationOptions { LeaseTtl = TimeSpan.FromSeconds(1), AutoRenew = false });
        await lapsing.WriteAsync(0, TestPattern.Make(0, 4 << 20, 3));
        var oldSegment = lapsing.Targets[0].Capability;

        await WaitForAsync(client, s => s.Leases.All(l => l.Id != lapsing.LeaseId) && s.Donors.Single().LeasedBytes == 0, "expired lease reclaimed");
        await Assert.ThrowsAsync<LeaseLostException>(() => lapsing.ReadAsync(0, new byte[16]).AsTask());

        await using var again = await client.AllocateAsync(4 << 20);
        var newSegment = again.Targets[0].Capability;
        Assert.Equal(oldSegment.PoolOffset, newSegment.PoolOffset); // the very same memory
        Assert.NotEqual(oldSegment.SegmentId, newSegment.SegmentId);
        var contents = new byte[4 << 20];
        await again.ReadAsync(0, contents);
        Assert.True(contents.All(b => b == 0), "a reused range must read as zeros");
    }

    [Fact]
    public async Task A_donor_offering_8GiB_with_256MiB_leased_stays_far_below_8GiB_resident()
    {
        await using var cluster = await LocalCluster.StartAsync(1, "8GiB");
        await using var client = await ConnectAsync(cluster);
        await using var allocation = await client.AllocateAsync(256 << 20);
        var block = TestPattern.Make(0, 16 << 20, 4);
        for (long offset = 0; offset < allocation.Length; offset += block.Length) await allocation.WriteAsync(offset, block);

        long resident = ProcessMemory.ResidentBytes(cluster.Donors[0].Pid);
        Assert.True(resident > 200L << 20, $"the leased data should be resident, RSS is {resident >> 20} MiB");
        Assert.True(resident < 1L << 30, $"donor RSS is {resident >> 20} MiB for 256 MiB leased out of 8 GiB offered");
    }

    [Fact]
    public async Task A_donor_stopped_with_SIGTERM_exits_cleanly_and_leaves_the_cluster()
    {
        await using var cluster = await LocalCluster.StartAsync(1, "16MiB", FastDetection);
        await using var client = await ConnectAsync(cluster);
        await using var allocation = await client.AllocateAsync(1 << 20);
        await allocation.WriteAsync(0, new byte[1 << 20]);

        var donor = cluster.Donors[0];
        Assert.Equal(0, await donor.StopAsync(TimeSpan.FromSeconds(15)));
        await WaitForAsync(client, s => s.Donors.Single().Health == DonorHealth.Left, "donor shown as left");

        // The manager pushed a lease-lost event: the allocation knows before it is touched again.
        var clock = Stopwatch.StartNew();
        while (!allocation.IsLost && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(50);
        Assert.True(allocation.IsLost, "no lease-lost event reached the client");
        await Assert.ThrowsAsync<LeaseLostException>(() => allocation.ReadAsync(0, new byte[16]).AsTask());
    }
}
