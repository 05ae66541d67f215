using System.Diagnostics;
using RemoteMem.Cli.Internal;
using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Transport;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Tests.Integration;

/// <summary>
/// Replication: every write reaches each copy before it completes, copies never share a node, and a
/// donor killed with SIGKILL in the middle of a workload costs the application neither an error nor a
/// byte, again and again.
/// </summary>
[Collection(Processes.Name)]
public sealed class ReplicationTests
{
    private static readonly string[] FastDetection = ["--heartbeat-interval", "200ms", "--donor-timeout", "2s"];

    private static async Task<LocalCluster> StartAsync(int donors)
    {
        var cluster = await LocalCluster.StartAsync(0, "0", FastDetection);
        // Each donor claims its own node: replicas must land on different nodes.
        for (int i = 0; i < donors; i++) await cluster.StartDonorAsync("64MiB", ["--node", $"node{i}"]);
        return cluster;
    }

    private static Task<RemoteMemClient> ConnectAsync(LocalCluster cluster) =>
        RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret, DataTimeout = TimeSpan.FromSeconds(8) });

    [Fact]
    public async Task Each_copy_holds_every_write_and_copies_never_share_a_node()
    {
        await using var cluster = await StartAsync(3);
        await using var client = await ConnectAsync(cluster);
        const int size = 8 << 20;
        await using var allocation = await client.AllocateAsync(size, new AllocationOptions { Replicas = 2, StripeCount = 2, StripeSize = 1 << 20 });
        var status = await client.GetStatusAsync();
        var nodeOf = status.Donors.ToDictionary(d => d.Endpoint, d => d.Node);
        Assert.Equal(4, allocation.Targets.Count);
        Assert.Equal(2, status.Leases.Single().Replicas);

        var data = TestPattern.Make(0, size, 4);
        await allocation.WriteAsync(0, data);

        // Read each replica directly, bypassing the client's choice of copy: all hold the same bytes.
        var grant = allocation.Targets;
        var buffer = GC.AllocateArray<byte>(size / 2, pinned: true);
        var byCopy = new List<byte[]>();
        foreach (var target in grant)
        {
            unsafe
            {
                fixed (byte* p = buffer) client.Transport.Read(target, [new IoOp(0, (nint)p, (int)target.Capability.Length)]);
            }

            byCopy.Add(buffer.AsSpan(0, (int)target.Capability.Length).ToArray());
        }

        // Two groups of two copies: within a group, identical bytes on two different nodes.
        var groups = byCopy.Select((bytes, i) => (bytes, target: grant[i])).GroupBy(x => Convert.ToHexString(x.bytes.AsSpan(0, 64))).ToList();
        Assert.Equal(2, groups.Count);
        foreach (var group in groups)
        {
            var copies = group.ToList();
            Assert.Equal(2, copies.Count);
            Assert.True(copies[0].bytes.AsSpan().SequenceEqual(copies[1].bytes), "two copies of one group differ");
            Assert.NotEqual(nodeOf[copies[0].target.Endpoint], nodeOf[copies[1].target.Endpoint]);
        }
    }

    [Fact]
    public async Task A_donor_killed_mid_workload_twenty_times_costs_no_error_and_no_byte_and_the_copy_is_rebuilt()
    {
        await using var cluster = await StartAsync(3);
        await using var client = await ConnectAsync(cluster);
        int nextNode = 3;
        for (int iteration = 0; iteration < 20; iteration++)
        {
            const int size = 4 << 20;
            await using var allocation = await client.AllocateAsync(size, new AllocationOptions { Replicas = 2, StripeCount = 1 });
            var model = TestPattern.Make(0, size, iteration);
            await allocation.WriteAsync(0, model);

            using var stop = new CancellationTokenSource();
            var workload = VerifyingWorkload.Start(allocation, model, seed: iteration, maxLength: 64 << 10, stop.Token);

            // Kill one of the two donors holding the lease, in the middle of the workload.
            var victim = cluster.Donors.First(d => !d.HasExited && allocation.Donors.Contains(d.Endpoint));
            await Task.Delay(50 + iteration * 7 % 100);
            victim.Signal(ChildProcess.SigKill);
            await Task.Delay(300);
            stop.Cancel();
            await workload.Running; // an error or a wrong byte fails the test here

            var back = new byte[size];
            await allocation.ReadAsync(0, back);
            Assert.True(back.AsSpan().SequenceEqual(model), $"iteration {iteration}: the lease's bytes differ after the kill");
            Assert.DoesNotContain(victim.Endpoint, allocation.Donors);

            // The lost copy is rebuilt on the surviving donors: two copies again, the data intact on both.
            var clock = Stopwatch.StartNew();
            LeaseStatus lease;
            while ((lease = (await client.GetStatusAsync()).Leases.Single(l => l.Id == allocation.LeaseId)).Degraded && clock.Elapsed < TimeSpan.FromSeconds(20))
                await Task.Delay(100);
            Assert.False(lease.Lost, lease.LostReason);
            Assert.False(lease.Degraded, $"iteration {iteration}: the lease was not rebuilt");
            Array.Clear(back);
            await allocation.ReadAsync(0, back); // meets the freed old copy, renews, reads the new ones
            Assert.True(back.AsSpan().SequenceEqual(model), $"iteration {iteration}: the bytes differ after the rebuild");
            Assert.Equal(2, allocation.Targets.Count);
            Assert.NotEqual(allocation.Targets[0].Endpoint, allocation.Targets[1].Endpoint);

            // A new node joins for the next round.
            await cluster.StartDonorAsync("64MiB", ["--node", $"node{nextNode++}"]);
        }
    }

    [Fact]
    public async Task A_hung_donor_fails_over_to_the_other_copy_within_the_data_timeout()
    {
        await using var cluster = await StartAsync(3);
        await using var client = await ConnectAsync(cluster); // DataTimeout 8 s: a request may take 2.7 s
        const int size = 4 << 20;
        await using var allocation = await client.AllocateAsync(size, new AllocationOptions { Replicas = 2, StripeCount = 1 });
        var model = TestPattern.Make(0, size, 12);
        await allocation.WriteAsync(0, model);

        var hung = cluster.Donors.First(d => allocation.Donors.Contains(d.Endpoint));
        hung.Signal(ChildProcess.SigStop); // a frozen node: its sockets stay open, nothing answers
        try
        {
            // Reads and writes go on; the ones that meet the hung copy time out, renew once the manager
            // has declared it dead (2 s), and complete on the other copy.
            var clock = Stopwatch.StartNew();
            var random = new Random(3);
            var buffer = new byte[64 << 10];
            while (clock.Elapsed < TimeSpan.FromSeconds(6))
            {
                long offset = random.NextInt64(0, size - buffer.Length);
                random.NextBytes(buffer);
                await allocation.WriteAsync(offset, buffer);
                buffer.CopyTo(model.AsSpan((int)offset));
                var back = new byte[buffer.Length];
                await allocation.ReadAsync(offset, back);
                Assert.True(back.AsSpan().SequenceEqual(buffer), "a read after the failover differs");
            }

            Assert.DoesNotContain(hung.Endpoint, allocation.Donors);
            var all = new byte[size];
            await allocation.ReadAsync(0, all);
            Assert.True(all.AsSpan().SequenceEqual(model), "the lease's bytes differ after the failover");
            Assert.Equal(DonorHealth.Dead, (await client.GetStatusAsync()).Donors.Single(d => d.Endpoint == hung.Endpoint).Health);
        }
        finally
        {
            hung.Signal(ChildProcess.SigCont);
        }
    }

    [Fact]
    public async Task More_replicas_than_nodes_is_refused_with_the_reason()
    {
        await using var cluster = await StartAsync(2);
        await using var client = await ConnectAsync(cluster);
        var ex = await Assert.ThrowsAsync<InsufficientCapacityException>(() => client.AllocateAsync(1 << 20, new AllocationOptions { Replicas = 3 }));
        Assert.Contains("3 replicas need donors on 3 different nodes", ex.Message);
    }
}
