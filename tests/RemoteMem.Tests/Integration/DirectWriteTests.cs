using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Tests.Integration;

/// <summary>
/// A donor takes a large write's payload straight from the socket into its pool while it arrives
/// (<see cref="IFrameHandler.TryReceiveDirect"/>): raw peers send writes in pieces, stall halfway or
/// present a bad capability, while the donor keeps answering and the lease can still be freed.
/// </summary>
public sealed class DirectWriteTests
{
    [Fact]
    public async Task A_large_write_arriving_in_pieces_is_stored_whole_and_a_refused_one_is_answered()
    {
        await using var cluster = await InProcessCluster.StartAsync(donors: 1, donorBytes: 16L << 20);
        await using var client = await cluster.ConnectAsync();
        await using var allocation = await client.AllocateAsync(4L << 20);
        var target = allocation.Targets[0];
        using var peer = await RawPeer.AuthenticateAsync(target.Endpoint, cluster.Secret);

        // 1 MiB in four pieces with pauses between them: the donor must wait for each, not take a
        // partial payload for the whole.
        var data = TestPattern.Make(1 << 20, 1 << 20, 3);
        var frame = WriteFrame(10, target.Capability, 1 << 20, data);
        int piece = frame.Length / 4;
        for (int i = 0; i < 4; i++)
        {
            peer.Send(frame.AsSpan(i * piece, i == 3 ? frame.Length - 3 * piece : piece));
            await Task.Delay(50);
        }

        var answer = peer.Receive().Header;
        Assert.Equal((10UL, ErrorCode.Ok), (answer.RequestId, answer.Status));
        var back = new byte[1 << 20];
        await allocation.ReadAsync(1 << 20, back);
        Assert.True(data.AsSpan().SequenceEqual(back), "the write sent in pieces was not stored whole");

        // A bad capability: refused with its error once the frame is in, and the connection stays.
        var forged = new byte[Capability.Size];
        target.Capability.Write(forged);
        forged[^1] ^= 0xFF;
        peer.Send(WriteFrame(11, Capability.Read(forged), 0, new byte[256 << 10]));
        var refused = peer.Receive().Header;
        Assert.Equal((11UL, ErrorCode.CapabilityInvalid), (refused.RequestId, refused.Status));
        peer.Send(WriteFrame(12, target.Capability, 0, new byte[128 << 10]));
        Assert.Equal(ErrorCode.Ok, peer.Receive().Header.Status);
    }

    [Fact]
    public async Task A_write_that_stalls_halfway_loses_its_connection_and_holds_up_nothing()
    {
        await using var cluster = await InProcessCluster.StartAsync(donors: 1, donorBytes: 16L << 20);
        await using var client = await cluster.ConnectAsync();
        var allocation = await client.AllocateAsync(4L << 20);
        var target = allocation.Targets[0];
        using var peer = await RawPeer.AuthenticateAsync(target.Endpoint, cluster.Secret);
        var frame = WriteFrame(20, target.Capability, 0, new byte[1 << 20]);
        peer.Send(frame.AsSpan(0, frame.Length / 2));

        // Meanwhile other connections are served, and the donor drops this one after its stall timeout.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var data = TestPattern.Make(2 << 20, 64 << 10, 5);
        await allocation.WriteAsync(2 << 20, data);
        var back = new byte[data.Length];
        await allocation.ReadAsync(2 << 20, back);
        Assert.True(data.AsSpan().SequenceEqual(back));
        Assert.True(peer.IsClosedByServer(), "the donor kept a connection that stalled in the middle of a write");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(9), $"closed only after {clock.Elapsed.TotalSeconds:0.0} s");

        // The lease can be freed: nothing still holds its segment.
        await allocation.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty((await client.GetStatusAsync()).Leases);
    }

    private static byte[] WriteFrame(ulong id, in Capability capability, long offset, ReadOnlySpan<byte> data)
    {
        Span<byte> prefix = stackalloc byte[DataRequest.MaxPrefixSize];
        int length = DataRequest.WritePrefix(prefix, Opcode.Write, capability, [new WireRange((ulong)offset, (uint)data.Length)]);
        var payload = new byte[length + data.Length];
        prefix[..length].CopyTo(payload);
        data.CopyTo(payload.AsSpan(length));
        return RawPeer.Frame(Opcode.Write, id, payload);
    }
}
