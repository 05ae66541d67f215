using RemoteMem.Tests.Infrastructure;
using RemoteMem.Transport;
using RemoteMem.Wire;

namespace RemoteMem.Tests.Transport;

/// <summary>The blocking frame socket executors use: the shared handshake, framing, and refusing the wrong key.</summary>
public sealed class FrameSocketTests
{
    [Fact]
    public async Task Authenticated_peers_exchange_frames_and_a_wrong_key_is_refused()
    {
        var key = ClusterSecret.Generate(out _);
        using var listener = new LoopbackListener();
        var endpoint = listener.Endpoint;

        var server = Task.Run(() =>
        {
            using var connection = FrameSocket.Accept(listener.Accept(), key, WireLimits.DefaultMaxFrameSize, TimeSpan.FromSeconds(10));
            Assert.NotNull(connection);
            Assert.Equal(PeerRole.Client, connection.PeerRole);
            while (connection.ReadFrame(out var header, out var payload))
                connection.Send(header.ToResponse(0), payload, payload);
        });

        using (var client = await FrameSocket.ConnectAsync(endpoint, key, PeerRole.Client, new TransportOptions()))
        {
            for (int size = 0; size <= 300_000; size = size * 3 + 1)
            {
                var payload = new byte[size];
                new Random(size).NextBytes(payload);
                client.Send(new FrameHeader(0, client.Version, Opcode.Invoke, (ulong)size + 1, ErrorCode.Ok, FrameFlags.None), payload, default);
                Assert.True(client.ReadFrame(out var header, out var echoed));
                Assert.Equal((ulong)size + 1, header.RequestId);
                Assert.True(header.IsResponse);
                Assert.Equal([.. payload, .. payload], echoed.ToArray());
            }
        }

        await server.WaitAsync(TimeSpan.FromSeconds(30));

        var refused = Task.Run(() => FrameSocket.Accept(listener.Accept(), key, WireLimits.DefaultMaxFrameSize, TimeSpan.FromSeconds(10)));
        var error = await Assert.ThrowsAsync<WireException>(() => FrameSocket.ConnectAsync(endpoint, ClusterSecret.Generate(out _), PeerRole.Client, new TransportOptions()));
        Assert.Equal(ErrorCode.AuthenticationFailed, error.Code);
        Assert.Null(await refused.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
