using System.Buffers;
using System.Buffers.Binary;
using RemoteMem.Transport;
using RemoteMem.Wire;

namespace RemoteMem.Tests.Transport;

/// <summary>The multiplexed connection: many requests in flight, answers in any order, failures that end every pending request.</summary>
public sealed class FrameClientTests
{
    /// <summary>Answers each Status request after a delay taken from its payload, so later requests can overtake earlier ones.</summary>
    private sealed class DelayingEcho : IFrameHandler
    {
        public void OnFrame(FrameConnection connection, in FrameHeader header, in ReadOnlySequence<byte> payload)
        {
            var body = payload.ToArray();
            var request = header;
            int delay = BinaryPrimitives.ReadInt32LittleEndian(body);
            _ = Task.Run(async () =>
            {
                await Task.Delay(delay);
                await connection.RespondAsync(request, ErrorCode.Ok, body);
            });
        }
    }

    private sealed class Silent : IFrameHandler
    {
        public void OnFrame(FrameConnection connection, in FrameHeader header, in ReadOnlySequence<byte> payload)
        {
        }
    }

    [Fact]
    public async Task Many_requests_in_flight_are_matched_to_answers_that_arrive_out_of_order()
    {
        var secret = ClusterSecret.Generate(out _);
        await using var server = new FrameServer(new DelayingEcho(), secret, new TransportOptions());
        var endpoint = Endpoints.Format(server.Start("127.0.0.1:0"));
        await using var client = await FrameClient.ConnectAsync(endpoint, secret, PeerRole.Client, new TransportOptions { MaxInFlight = 64 });

        // 200 requests over 64 slots; request i waits (200 - i) % 50 ms, so answers come back shuffled.
        var calls = Enumerable.Range(0, 200).Select(async i =>
        {
            var payload = new byte[8];
            BinaryPrimitives.WriteInt32LittleEndian(payload, (200 - i) % 50);
            BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(4), i);
            var answer = await client.CallAsync(Opcode.Status, payload);
            return (Sent: i, Answered: BinaryPrimitives.ReadInt32LittleEndian(answer.AsSpan(4)));
        }).ToList();
        var results = await Task.WhenAll(calls);
        Assert.All(results, r => Assert.Equal(r.Sent, r.Answered));
    }

    [Fact]
    public async Task An_unanswered_request_times_out_and_fails_every_request_on_the_connection()
    {
        var secret = ClusterSecret.Generate(out _);
        await using var server = new FrameServer(new Silent(), secret, new TransportOptions());
        var endpoint = Endpoints.Format(server.Start("127.0.0.1:0"));
        await using var client = await FrameClient.ConnectAsync(endpoint, secret, PeerRole.Client, new TransportOptions { RequestTimeout = TimeSpan.FromMilliseconds(300) });

        var first = client.CallAsync(Opcode.Status, new byte[1]);
        var second = client.CallAsync(Opcode.Status, new byte[1]);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAsync<ConnectionFailedException>(() => first);
        await Assert.ThrowsAsync<ConnectionFailedException>(() => second);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.False(client.IsConnected);
        await Assert.ThrowsAsync<ConnectionFailedException>(() => client.CallAsync(Opcode.Status, new byte[1]));
    }

    [Fact]
    public async Task A_peer_with_another_secret_is_refused_in_the_handshake()
    {
        await using var server = new FrameServer(new Silent(), ClusterSecret.Generate(out _), new TransportOptions());
        var endpoint = Endpoints.Format(server.Start("127.0.0.1:0"));
        var ex = await Assert.ThrowsAsync<WireException>(() => FrameClient.ConnectAsync(endpoint, ClusterSecret.Generate(out _), PeerRole.Client, new TransportOptions()));
        Assert.Equal(ErrorCode.AuthenticationFailed, ex.Code);
    }
}
