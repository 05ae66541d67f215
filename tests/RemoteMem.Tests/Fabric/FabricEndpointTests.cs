using System.Diagnostics;
using RemoteMem.Fabric;
using RemoteMem.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RemoteMem.Tests.Fabric;

/// <summary>
/// One-sided reads and writes between a donor and a client endpoint in this process, over both providers
/// this machine has: data lands byte for byte, many operations can be in flight, and failures (out of range,
/// broken connection) come back as exceptions within the deadline, never as hangs.
/// </summary>
public sealed class FabricEndpointTests(ITestOutputHelper output)
{
    private static readonly int[] Sizes = [8, 13, 64, 4096, 4097, 65536, 1 << 20, 4 << 20];

    [Theory]
    [InlineData(FabricTestEnvironment.Tcp)]
    [InlineData(FabricTestEnvironment.Shm)]
    public async Task Reads_of_8_B_to_4_MiB_at_various_offsets_match_the_donor(string provider)
    {
        using var pair = FabricPair.Open(provider);
        foreach (int size in Sizes)
        {
            foreach (long remote in new long[] { 0, 1, 4095, 12_345, FabricPair.DonorBytes - size })
            {
                long local = (remote * 7) % 64; // misaligned local buffers too
                pair.ClientMemory.Span(local, size).Clear();
                await pair.ReadAsync(remote, local, size);
                pair.AssertLocalEqualsModel(local, remote, size);
            }
        }
    }

    [Theory]
    [InlineData(FabricTestEnvironment.Tcp, true)]
    [InlineData(FabricTestEnvironment.Tcp, false)]
    [InlineData(FabricTestEnvironment.Shm, true)]
    [InlineData(FabricTestEnvironment.Shm, false)]
    public async Task Writes_of_8_B_to_4_MiB_land_in_the_donor(string provider, bool deliveryComplete)
    {
        using var pair = FabricPair.Open(provider);
        int seed = 100;
        foreach (int size in Sizes)
        {
            foreach (long remote in new long[] { 0, 3, 65_537, FabricPair.DonorBytes - size })
            {
                var data = TestPattern.Make(remote, size, ++seed);
                data.CopyTo(pair.ClientMemory.Span(5, size));
                await pair.WriteAsync(remote, 5, size, deliveryComplete);
                data.CopyTo(pair.Model.AsSpan((int)remote));
                if (deliveryComplete)
                    Assert.True(pair.DonorMemory.Span(remote, size).SequenceEqual(data), $"{provider}: a delivery-complete write of {size} B at {remote} was not visible at completion");
            }
        }

        // A plain completion means "sent": give placement a moment, then compare everything.
        await WaitUntil(() => pair.DonorMemory.Span(0, (int)FabricPair.DonorBytes).SequenceEqual(pair.Model), TimeSpan.FromSeconds(5));
        pair.AssertDonorEqualsModel();
    }

    [Theory]
    [InlineData(FabricTestEnvironment.Tcp)]
    [InlineData(FabricTestEnvironment.Shm)]
    public async Task Hundreds_of_reads_and_writes_in_flight_with_backpressure(string provider)
    {
        // 32 slots for 400 operations: most callers wait for a slot (the pool's slow path).
        using var pair = FabricPair.Open(provider, maxInFlight: 32);
        var random = new Random(42);
        const int Count = 400, Slot = 40_000;
        var reads = new List<(long Remote, long Local, int Size)>();
        var tasks = new List<Task>();
        long writeBase = FabricPair.DonorBytes / 2; // writes in the upper half, reads in the lower: no overlap
        for (int i = 0; i < Count; i++)
        {
            int size = random.Next(1, Slot);
            long local = (long)i * Slot;
            if (i % 3 == 0)
            {
                long remote = writeBase + (long)(i / 3) * Slot;
                var data = TestPattern.Make(remote, size, 9);
                data.CopyTo(pair.ClientMemory.Span(local, size));
                data.CopyTo(pair.Model.AsSpan((int)remote));
                tasks.Add(pair.WriteAsync(remote, local, size).AsTask());
            }
            else
            {
                long remote = random.NextInt64(0, writeBase - size);
                reads.Add((remote, local, size));
                tasks.Add(pair.ReadAsync(remote, local, size).AsTask());
            }
        }

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60));
        foreach (var (remote, local, size) in reads) pair.AssertLocalEqualsModel(local, remote, size);
        pair.AssertDonorEqualsModel();
        Assert.Equal(0, pair.Client.QuarantinedOperations);
    }

    [Theory]
    [InlineData(FabricTestEnvironment.Tcp)]
    [InlineData(FabricTestEnvironment.Shm)]
    public void Blocking_reads_and_writes(string provider)
    {
        using var pair = FabricPair.Open(provider);
        var data = TestPattern.Make(0, 70_000, 3);
        data.CopyTo(pair.ClientMemory.Span(0, data.Length));
        pair.Write(1000, 0, data.Length);
        data.CopyTo(pair.Model.AsSpan(1000));
        pair.Read(0, 100_000, 200_000);
        pair.AssertLocalEqualsModel(100_000, 0, 200_000);
    }

    [Theory]
    [InlineData(FabricTestEnvironment.Tcp)]
    [InlineData(FabricTestEnvironment.Shm)]
    public async Task A_spinning_client_works_against_a_blocking_donor(string provider)
    {
        using var pair = FabricPair.Open(provider, clientMode: FabricProgressMode.Spinning);
        for (int i = 0; i < 200; i++)
        {
            long remote = i * 4096L + i;
            await pair.ReadAsync(remote, 0, 4096);
            pair.AssertLocalEqualsModel(0, remote, 4096);
        }
    }

    [Theory]
    [InlineData(FabricTestEnvironment.Tcp)]
    [InlineData(FabricTestEnvironment.Shm)]
    public async Task A_read_past_the_region_fails_within_the_deadline_and_the_client_recovers(string provider)
    {
        var timeout = TimeSpan.FromSeconds(2);
        using var pair = FabricPair.Open(provider, timeout);
        var clock = Stopwatch.StartNew();
        // Crosses the donor region's end into its guard page.
        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await pair.ReadAsync(FabricPair.DonorBytes - 100, 0, 4096));
        clock.Stop();
        output.WriteLine($"{provider}: {error.GetType().Name} after {clock.Elapsed.TotalMilliseconds:0} ms: {error.Message}");
        // tcp range-checks at the donor (err 125); shm's initiator-side copy fails unattributably (timeout).
        if (provider == FabricTestEnvironment.Tcp) Assert.IsAssignableFrom<FabricException>(error);
        else Assert.True(error is FabricException or TimeoutException, $"{provider}: unexpected {error}");
        Assert.True(clock.Elapsed < timeout + TimeSpan.FromSeconds(3), $"{provider}: the failure took {clock.Elapsed}");

        // tcp;ofi_rxm: the donor dropped the connection; the next operation says so, and a rebuild heals it.
        // shm: the failed copy is not attributable, so the operation timed out and its slot is quarantined.
        try
        {
            await pair.ReadAsync(8, 0, 64);
            output.WriteLine($"{provider}: the next read succeeded; quarantined: {pair.Client.QuarantinedOperations}");
        }
        catch (FabricConnectionBrokenException broken)
        {
            output.WriteLine($"{provider}: the next read: {broken.Message}");
            pair.Client.Rebuild();
        }

        pair.Client.Rebuild(); // always valid: reclaims quarantined contexts
        Assert.Equal(0, pair.Client.QuarantinedOperations);
        await pair.ReadAsync(8, 0, 64);
        pair.AssertLocalEqualsModel(0, 8, 64);
    }

    [Fact]
    public async Task Tcp_reports_a_wrong_key_and_a_rebuild_heals_the_connection_it_breaks()
    {
        using var pair = FabricPair.Open(FabricTestEnvironment.Tcp, TimeSpan.FromSeconds(5));
        var local = pair.ClientMemory.Address;
        var wrong = await Assert.ThrowsAnyAsync<FabricException>(async () =>
            await pair.Client.ReadAsync(pair.DonorPeer, local, pair.ClientRegistration.Descriptor, pair.DonorRegistration.RemoteAddressOf(0), pair.DonorRegistration.Key ^ 0x5a5a, 64));
        output.WriteLine($"wrong key: {wrong.Message}");
        Assert.Equal(125, wrong.Error); // ECANCELED: the donor refused the access

        // The donor drops the connection after a remote access error, asynchronously: the next operations
        // succeed until it has, then fail as broken. A rebuild makes a new connection either way.
        for (int i = 0; i < 20; i++)
        {
            try
            {
                await pair.ReadAsync(0, 0, 64);
            }
            catch (FabricConnectionBrokenException broken)
            {
                output.WriteLine($"read {i} after it: {broken.Message}");
                break;
            }

            await Task.Delay(10);
        }

        var nameBefore = pair.Client.GetName();
        pair.Client.Rebuild();
        Assert.Equal(1, pair.Client.Generation);
        Assert.False(nameBefore.AsSpan().SequenceEqual(pair.Client.GetName()), "a new endpoint has a new name");
        await pair.ReadAsync(4096, 0, 4096);
        pair.AssertLocalEqualsModel(0, 4096, 4096);
    }

    [Fact]
    public async Task Tcp_reports_a_donor_that_went_away_within_the_deadline()
    {
        var timeout = TimeSpan.FromSeconds(2);
        using var pair = FabricPair.Open(FabricTestEnvironment.Tcp, timeout);
        await pair.ReadAsync(0, 0, 64); // connected
        pair.Donor.Dispose();
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await pair.ReadAsync(0, 0, 64));
        output.WriteLine($"after {clock.Elapsed.TotalMilliseconds:0} ms: {error.GetType().Name}: {error.Message}");
        // Either the cut connection (err 125, prov_errno 107) or, once rxm tries to reconnect, posts refused
        // with -FI_EAGAIN until the deadline: never a hang, and never quarantined (nothing was sent).
        Assert.True(error is FabricConnectionBrokenException or TimeoutException, error.ToString());
        Assert.True(clock.Elapsed < timeout + TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        // A post the provider never took is dropped by the progress thread on its next pass (every
        // millisecond while posts wait), which on a loaded machine may come just after the caller's
        // timeout: give it that pass, then nothing may be held.
        for (int i = 0; i < 100 && pair.Client.QuarantinedOperations != 0; i++) await Task.Delay(10);
        Assert.Equal(0, pair.Client.QuarantinedOperations);
    }

    [Theory]
    [InlineData(FabricTestEnvironment.Tcp)]
    [InlineData(FabricTestEnvironment.Shm)]
    public async Task Rebuild_keeps_registrations_and_peers(string provider)
    {
        using var pair = FabricPair.Open(provider);
        await pair.ReadAsync(100, 0, 1000);
        for (int i = 1; i <= 3; i++)
        {
            pair.Client.Rebuild();
            Assert.Equal(i, pair.Client.Generation);
            await pair.ReadAsync(100 * i, 0, 1000);
            pair.AssertLocalEqualsModel(0, 100 * i, 1000);
        }

        // Callers that saw the same broken connection rebuild once: later ones find the generation moved on.
        Assert.False(pair.Client.Rebuild(observedGeneration: 2));
        Assert.True(pair.Client.Rebuild(observedGeneration: 3));
        Assert.Equal(4, pair.Client.Generation);
        await pair.ReadAsync(0, 0, 1000);
        pair.AssertLocalEqualsModel(0, 0, 1000);
    }

    [Theory]
    [InlineData(FabricTestEnvironment.Tcp, "donor-first")]
    [InlineData(FabricTestEnvironment.Tcp, "client-first")]
    [InlineData(FabricTestEnvironment.Tcp, "registrations-first")]
    [InlineData(FabricTestEnvironment.Tcp, "rebuild-while-in-flight")]
    [InlineData(FabricTestEnvironment.Shm, "donor-first")]
    [InlineData(FabricTestEnvironment.Shm, "client-first")]
    [InlineData(FabricTestEnvironment.Shm, "registrations-first")]
    [InlineData(FabricTestEnvironment.Shm, "rebuild-while-in-flight")]
    public async Task Disposing_in_any_order_with_operations_in_flight_does_not_crash_or_hang(string provider, string order)
    {
        var timeout = TimeSpan.FromSeconds(3);
        var pair = FabricPair.Open(provider, timeout);
        var inFlight = new List<Task>();
        for (int i = 0; i < 32; i++) inFlight.Add(pair.ReadAsync(i * 65536L, i * 65536L, 65536).AsTask());
        switch (order)
        {
            case "donor-first":
                pair.Donor.Dispose();
                pair.Client.Dispose();
                break;
            case "client-first":
                pair.Client.Dispose();
                pair.Donor.Dispose();
                break;
            case "registrations-first":
                pair.ClientRegistration.Dispose();
                pair.DonorRegistration.Dispose();
                pair.Donor.Dispose();
                pair.Client.Dispose();
                break;
            case "rebuild-while-in-flight":
                pair.Client.Rebuild();
                break;
        }

        // Every operation ends (success, an error, or a timeout), none hangs.
        foreach (var task in inFlight)
        {
            var ended = await Task.WhenAny(task, Task.Delay(timeout + TimeSpan.FromSeconds(5)));
            Assert.Same(task, ended);
            if (task.IsFaulted) output.WriteLine($"{order}: {task.Exception!.InnerException!.GetType().Name}: {task.Exception.InnerException.Message}");
            if (task.IsFaulted)
                Assert.True(task.Exception!.InnerException is FabricException or TimeoutException or ObjectDisposedException, $"{order}: {task.Exception}");
        }

        // Everything may be disposed again, in any order, and use after dispose says so.
        pair.DonorRegistration.Dispose();
        pair.Dispose();
        pair.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pair.ReadAsync(0, 0, 8));
        Assert.Throws<ObjectDisposedException>(() => pair.Client.RegisterMemory(pair.ClientMemory.Address, 8, false));
    }

    [Fact]
    public void A_peer_of_another_endpoint_or_a_removed_peer_is_refused()
    {
        using var pair = FabricPair.Open(FabricTestEnvironment.Tcp);
        Assert.Throws<ArgumentException>(() => pair.Donor.Read(pair.DonorPeer, pair.DonorMemory.Address, 0, 0, 0, 8));
        pair.Client.RemovePeer(pair.DonorPeer);
        Assert.Throws<InvalidOperationException>(() => pair.Read(0, 0, 8));
        var again = pair.Client.AddPeer(pair.Donor.GetName());
        pair.Client.Read(again, pair.ClientMemory.Address, pair.ClientRegistration.Descriptor, pair.DonorRegistration.RemoteAddressOf(0), pair.DonorRegistration.Key, 8);
        pair.AssertLocalEqualsModel(0, 0, 8);
    }

    [Theory]
    [InlineData(FabricTestEnvironment.Tcp, 0UL)]
    [InlineData(FabricTestEnvironment.Shm, 1UL << 4)]
    public void Registrations_honour_the_granted_mr_mode(string provider, ulong expectedMrMode)
    {
        using var pair = FabricPair.Open(provider);
        Assert.Equal(expectedMrMode, pair.Donor.MrMode);
        // FI_MR_VIRT_ADDR: peers address the donor's virtual addresses; otherwise offsets from 0.
        ulong expectedBase = expectedMrMode == 0 ? 0 : (ulong)pair.DonorMemory.Address;
        Assert.Equal(expectedBase, pair.DonorRegistration.RemoteBase);
        Assert.NotEqual(pair.DonorRegistration.Key, pair.ClientRegistration.Key);
        Assert.Equal(provider, pair.Donor.Provider);
        Assert.Equal(provider == FabricTestEnvironment.Tcp ? "native" : "emulated", pair.Donor.CompletionWaitKind);
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!condition() && clock.Elapsed < limit) await Task.Delay(10);
    }
}
