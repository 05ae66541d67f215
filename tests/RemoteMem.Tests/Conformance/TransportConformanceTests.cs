using System.Diagnostics;
using System.Runtime.InteropServices;
using RemoteMem.Cli.Internal;
using RemoteMem.Client;
using RemoteMem.Fabric;
using RemoteMem.Tests.Fabric;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Transport;
using RemoteMem.Wire;

namespace RemoteMem.Tests.Conformance;

/// <summary>
/// One behaviour whatever the data plane: the same tests against the managed TCP transport and the
/// fabric transport over tcp;ofi_rxm and over shm, each with a manager and donors as separate processes
/// (as on a cluster). Segments, arrays, the key-value store, refused requests and a killed donor.
/// </summary>
[Collection(Processes.Name)]
public sealed class TransportConformanceTests
{
    public static TheoryData<string, string> DataPlanes => new()
    {
        { "tcp", "" },
        { "fabric", FabricTestEnvironment.Tcp },
        { "fabric", FabricTestEnvironment.Shm },
    };

    private static async Task<(LocalCluster Cluster, RemoteMemClient Client)> StartAsync(string transport, string provider, int donors = 2, string memory = "64MiB")
    {
        if (transport == "fabric") FabricTestEnvironment.RequireLibrary();
        string[] donorArgs = transport == "fabric" ? ["--transport", "fabric", "--provider", provider] : [];
        var cluster = await LocalCluster.StartAsync(donors, memory, ["--heartbeat-interval", "200ms", "--donor-timeout", "2s"], donorArgs);
        try
        {
            var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions
            {
                Manager = cluster.ManagerEndpoint,
                Secret = cluster.Secret,
                DataTransport = transport,
                FabricProvider = transport == "fabric" ? provider : "tcp;ofi_rxm",
                DataTimeout = TimeSpan.FromSeconds(8),
            });
            return (cluster, client);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Fabric runs must really have gone one-sided, not quietly over TCP.</summary>
    private static void AssertDataPlane(RemoteMemClient client, string transport)
    {
        if (transport == "tcp")
        {
            Assert.IsType<TcpSegmentTransport>(client.Transport);
            return;
        }

        var fabric = Assert.IsType<FabricSegmentTransport>(client.Transport);
        Assert.True(fabric.FabricRequests > 0, "no request went over the fabric");
    }

    [Theory]
    [MemberData(nameof(DataPlanes))]
    public async Task Striped_segments_match_a_byte_model_under_random_reads_and_writes(string transport, string provider)
    {
        var (cluster, client) = await StartAsync(transport, provider);
        await using var _ = cluster;
        await using var __ = client;
        const int size = 24 << 20;
        await using var allocation = await client.AllocateAsync(size, new AllocationOptions { StripeCount = 2, StripeSize = 64 << 10 });
        var model = new byte[size];
        var random = new Random(17);
        var buffer = new byte[3 << 20];
        for (int i = 0; i < 300; i++)
        {
            int length = random.Next(1, i % 10 == 0 ? buffer.Length : 64 << 10);
            long offset = random.NextInt64(0, size - length);
            if (random.Next(3) > 0)
            {
                random.NextBytes(buffer.AsSpan(0, length));
                if (i % 2 == 0) await allocation.WriteAsync(offset, buffer.AsMemory(0, length));
                else allocation.Write(offset, buffer.AsSpan(0, length));
                buffer.AsSpan(0, length).CopyTo(model.AsSpan((int)offset));
            }
            else
            {
                if (i % 2 == 0) await allocation.ReadAsync(offset, buffer.AsMemory(0, length));
                else allocation.Read(offset, buffer.AsSpan(0, length));
                Assert.True(buffer.AsSpan(0, length).SequenceEqual(model.AsSpan((int)offset, length)), $"[{offset}, +{length}) differs at step {i}");
            }
        }

        var all = new byte[size];
        await allocation.ReadAsync(0, all);
        Assert.True(all.AsSpan().SequenceEqual(model));
        AssertDataPlane(client, transport);
    }

    [Theory]
    [MemberData(nameof(DataPlanes))]
    public async Task Arrays_larger_than_their_cache_and_the_key_value_store_round_trip(string transport, string provider)
    {
        var (cluster, client) = await StartAsync(transport, provider);
        await using var _ = cluster;
        await using var __ = client;

        const long n = 1 << 20; // 8 MiB of longs through a 1 MiB cache: every pass misses
        await using (var array = await client.CreateArrayAsync<long>(n, new RemoteArrayOptions { CacheBytes = 1 << 20, PageSize = 64 << 10, StripeCount = 2 }))
        {
            var chunk = new long[32 << 10];
            for (long i = 0; i < n; i += chunk.Length)
            {
                for (int k = 0; k < chunk.Length; k++) chunk[k] = (i + k) * 7 + 3;
                await array.WriteAsync(i, chunk);
            }

            await array.FlushAsync();
            for (long i = 0; i < n; i += chunk.Length)
            {
                await array.ReadAsync(i, chunk);
                for (int k = 0; k < chunk.Length; k++) Assert.Equal((i + k) * 7 + 3, chunk[k]);
            }
        }

        await using (var kv = await client.CreateKvAsync(new RemoteKvOptions { Capacity = 16 << 20, CacheBytes = 1 << 20, MaxValueBytes = 64 << 10 }))
        {
            for (int i = 0; i < 500; i++) await kv.PutAsync($"key-{i}", $"value-{i}-{new string('x', i % 300)}");
            for (int i = 0; i < 500; i += 7) Assert.Equal($"value-{i}-{new string('x', i % 300)}", await kv.TryGetStringAsync($"key-{i}"));
            Assert.Null(await kv.TryGetStringAsync("absent"));
        }

        AssertDataPlane(client, transport);
    }

    [Theory]
    [MemberData(nameof(DataPlanes))]
    public async Task Requests_beyond_a_capability_are_refused_with_the_same_error_codes(string transport, string provider)
    {
        var (cluster, client) = await StartAsync(transport, provider, donors: 1);
        await using var _ = cluster;
        await using var __ = client;
        await using var allocation = await client.AllocateAsync(1 << 20);
        await allocation.WriteAsync(0, TestPattern.Make(0, 4096, 1));
        var target = allocation.Targets[0];
        // A pinned buffer: its address stays valid without a fixed block (which lambdas cannot capture).
        var buffer = GC.AllocateArray<byte>(8192, pinned: true);
        nint local = Marshal.UnsafeAddrOfPinnedArrayElement(buffer, 0);

        // Past the segment's end.
        var beyond = new IoOp((long)target.Capability.Length - 100, local, 4096);
        var ex = Assert.ThrowsAny<WireException>(() => client.Transport.Read(target, [beyond]));
        Assert.Equal(ErrorCode.OutOfRange, ex.Code);

        // A read-only capability used for a write (re-signed, so only the rights differ).
        var authority = new CapabilityAuthority(cluster.Secret);
        var readOnly = target with { Capability = authority.Sign(target.Capability with { Rights = Rights.Read }) };
        ex = Assert.ThrowsAny<WireException>(() => client.Transport.Write(readOnly, [new IoOp(0, local, 4096)]));
        Assert.Equal(ErrorCode.RightsDenied, ex.Code);

        // An expired capability.
        var expired = target with { Capability = authority.Sign(target.Capability with { ExpiresUnixMs = 1 }) };
        ex = Assert.ThrowsAny<WireException>(() => client.Transport.Read(expired, [new IoOp(0, local, 4096)]));
        Assert.Equal(ErrorCode.CapabilityExpired, ex.Code);
        GC.KeepAlive(buffer);

        // The refusals harmed nothing: the data is intact.
        var back = new byte[4096];
        await allocation.ReadAsync(0, back);
        Assert.Equal(TestPattern.Make(0, 4096, 1), back);
        AssertDataPlane(client, transport);
    }

    [Fact]
    public async Task A_fabric_client_reaches_a_donor_without_a_fabric_over_tcp_in_the_same_lease()
    {
        FabricTestEnvironment.RequireLibrary();
        await using var cluster = await LocalCluster.StartAsync(1, "64MiB");
        await cluster.StartDonorAsync(extraArgs: ["--transport", "fabric", "--provider", FabricTestEnvironment.Tcp]);
        await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions
        {
            Manager = cluster.ManagerEndpoint,
            Secret = cluster.Secret,
            DataTransport = "fabric",
            FabricProvider = FabricTestEnvironment.Tcp,
        });
        // Stripes of 8 MiB: single requests far above the TCP frame limit, which the TCP side must split.
        const int size = 32 << 20;
        await using var allocation = await client.AllocateAsync(size, new AllocationOptions { StripeCount = 2, StripeSize = 8 << 20 });
        Assert.Equal(1, allocation.Targets.Count(t => t.Fabric is not null));
        var data = TestPattern.Make(0, size, 9);
        await allocation.WriteAsync(0, data);
        var back = new byte[size];
        await allocation.ReadAsync(0, back);
        Assert.True(data.AsSpan().SequenceEqual(back), "async round trip differs");
        Array.Clear(back);
        allocation.Read(0, back);
        Assert.True(data.AsSpan().SequenceEqual(back), "blocking round trip differs");
        Assert.True(((FabricSegmentTransport)client.Transport).FabricRequests > 0);
    }

    [Theory]
    [MemberData(nameof(DataPlanes))]
    public async Task A_killed_donor_turns_into_LeaseLostException_not_a_hang(string transport, string provider)
    {
        var (cluster, client) = await StartAsync(transport, provider);
        await using var _ = cluster;
        await using var __ = client;
        await using var allocation = await client.AllocateAsync(4 << 20, new AllocationOptions { StripeCount = 2 });
        await allocation.WriteAsync(0, TestPattern.Make(0, 4 << 20, 2));
        AssertDataPlane(client, transport);

        cluster.Donors[1].Signal(ChildProcess.SigKill);
        var clock = Stopwatch.StartNew();
        var ex = await Record.ExceptionAsync(async () =>
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(30)) await allocation.ReadAsync(0, new byte[4 << 20]);
        });
        Assert.True(ex is LeaseLostException, $"got {ex?.GetType().Name ?? "no error"}: {ex?.Message}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
    }
}
