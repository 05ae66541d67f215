using RemoteMem.Cli.Internal;
using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Tests.Integration;

/// <summary>
/// Raw sockets throw truncated frames, oversized lengths, unknown opcodes, wrong versions, wrong
/// secrets and random bytes at a real donor process and a real manager process, while a well-behaved
/// client keeps writing and verifying its data. Both processes stay up and the client sees no error.
/// </summary>
[Collection(Processes.Name)]
public sealed class BadInputTests
{
    [Fact]
    public async Task Donor_and_manager_survive_garbage_while_a_client_keeps_verifying()
    {
        await using var cluster = await LocalCluster.StartAsync(1, "64MiB");
        await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret });
        await using var allocation = await client.AllocateAsync(4 << 20);

        using var stop = new CancellationTokenSource();
        int rounds = 0;
        var verifier = Task.Run(async () =>
        {
            var back = new byte[256 << 10];
            while (!stop.IsCancellationRequested)
            {
                long offset = (rounds * (256L << 10)) % allocation.Length;
                var data = TestPattern.Make(offset, back.Length, rounds);
                await allocation.WriteAsync(offset, data);
                await allocation.ReadAsync(offset, back);
                Assert.True(data.AsSpan().SequenceEqual(back), $"round {rounds}: data differs");
                rounds++;
            }
        });

        foreach (var endpoint in new[] { cluster.Donors[0].Endpoint, cluster.ManagerEndpoint })
        {
            await Unauthenticated_garbage_is_dropped(endpoint, cluster.Secret);
            await Authenticated_garbage_costs_only_the_request_or_the_connection(endpoint, cluster.Secret, isDonor: endpoint != cluster.ManagerEndpoint);
        }

        await Task.Delay(200);
        stop.Cancel();
        await verifier; // rethrows any verification failure or client error
        Assert.True(rounds > 0, "the well-behaved client made no progress");
        Assert.False(cluster.Manager.HasExited, "manager died:\n" + cluster.Manager.LogTail);
        Assert.False(cluster.Donors[0].HasExited, "donor died:\n" + cluster.Donors[0].LogTail);
        var status = await client.GetStatusAsync();
        Assert.Equal(DonorHealth.Alive, status.Donors.Single().Health);
    }

    private static async Task Unauthenticated_garbage_is_dropped(string endpoint, ClusterSecret secret)
    {
        var random = new Random(42);
        for (int i = 0; i < 40; i++)
        {
            using var peer = await RawPeer.ConnectAsync(endpoint);
            var junk = new byte[random.Next(1, 8192)];
            random.NextBytes(junk);
            peer.Send(junk);
        }

        // A truncated Hello, then the connection closes mid-frame.
        using (var peer = await RawPeer.ConnectAsync(endpoint))
            peer.Send(RawPeer.Frame(Opcode.Hello, 1, new byte[29])[..15]);

        // A Hello claiming a 2 GiB payload: refused and closed, nothing allocated for it.
        using (var peer = await RawPeer.ConnectAsync(endpoint))
        {
            peer.Send(RawPeer.Frame(Opcode.Hello, 1, [], claimedLength: int.MaxValue - 100));
            Assert.True(peer.IsClosedByServer());
        }

        // Versions the server does not speak.
        using (var peer = await RawPeer.ConnectAsync(endpoint))
        {
            peer.Send(RawPeer.Frame(Opcode.Hello, 1, new Hello(9, 9, 1 << 20, PeerRole.Client, new byte[16]).Encode()));
            Assert.Equal(ErrorCode.UnsupportedVersion, peer.Receive().Header.Status);
            Assert.True(peer.IsClosedByServer());
        }

        // A request before the handshake.
        using (var peer = await RawPeer.ConnectAsync(endpoint))
        {
            peer.Send(RawPeer.Frame(Opcode.Status, 1, []));
            Assert.Equal(ErrorCode.NotAuthenticated, peer.Receive().Header.Status);
            Assert.True(peer.IsClosedByServer());
        }

        // The wrong secret: the server's proof does not verify for us, and ours is refused.
        var wrong = ClusterSecret.Generate(out _);
        await Assert.ThrowsAnyAsync<Exception>(() => RawPeer.AuthenticateAsync(endpoint, wrong));
        using (var peer = await RawPeer.ConnectAsync(endpoint))
        {
            var nonce = HandshakeProof.NewNonce();
            peer.Send(RawPeer.Frame(Opcode.Hello, 1, new Hello(1, 1, 1 << 20, PeerRole.Client, nonce).Encode()));
            var reply = HelloReply.Decode(peer.Receive().Payload);
            peer.Send(RawPeer.Frame(Opcode.Auth, 2, HandshakeProof.Compute(wrong, false, PeerRole.Client, nonce, reply.ServerNonce)));
            Assert.Equal(ErrorCode.AuthenticationFailed, peer.Receive().Header.Status);
            Assert.True(peer.IsClosedByServer());
        }

        _ = secret;
    }

    private static async Task Authenticated_garbage_costs_only_the_request_or_the_connection(string endpoint, ClusterSecret secret, bool isDonor)
    {
        using (var peer = await RawPeer.AuthenticateAsync(endpoint, secret))
        {
            // Unknown opcode: refused, connection kept.
            peer.Send(RawPeer.Frame((Opcode)0x7F, 10, [1, 2, 3]));
            Assert.Equal(ErrorCode.UnknownOpcode, peer.Receive().Header.Status);

            // A frame flagged as a response: refused, connection kept.
            peer.Send(RawPeer.Frame(Opcode.Status, 11, [], flags: FrameFlags.Response));
            Assert.Equal(ErrorCode.MalformedFrame, peer.Receive().Header.Status);

            // Truncated or random payloads for every opcode: each gets an error answer (or, for a
            // payload that happens to be valid, an answer) and the connection stays.
            var random = new Random(7);
            ulong id = 100;
            foreach (Opcode opcode in Enum.GetValues<Opcode>())
            {
                if (opcode is Opcode.Hello or Opcode.Auth or Opcode.LeaseRequest or Opcode.DonorRegister) continue; // these may succeed and take resources
                for (int i = 0; i < 20; i++)
                {
                    var payload = new byte[random.Next(0, i % 2 == 0 ? 16 : 300)];
                    random.NextBytes(payload);
                    peer.Send(RawPeer.Frame(opcode, ++id, payload));
                    var (header, _) = peer.Receive();
                    Assert.Equal(id, header.RequestId);
                    Assert.True(header.IsResponse);
                    if (opcode is not Opcode.Status) Assert.NotEqual(ErrorCode.Ok, header.Status);
                }
            }

            // A data request shorter than a capability.
            peer.Send(RawPeer.Frame(Opcode.Read, 999, new byte[10]));
            Assert.Equal(isDonor ? ErrorCode.MalformedFrame : ErrorCode.UnknownOpcode, peer.Receive().Header.Status);

            // Still alive and answering after all that.
            peer.Send(RawPeer.Frame(isDonor ? Opcode.Read : Opcode.Status, 1000, isDonor ? new byte[Capability.Size + 12] : []));
            var last = peer.Receive().Header;
            Assert.Equal(1000UL, last.RequestId);
            Assert.Equal(isDonor ? ErrorCode.CapabilityInvalid : ErrorCode.Ok, last.Status);
        }

        // A length over the agreed maximum: answered with FrameTooLarge, then closed.
        using (var peer = await RawPeer.AuthenticateAsync(endpoint, secret))
        {
            peer.Send(RawPeer.Frame(Opcode.Write, 1, [], claimedLength: WireLimits.AbsoluteMaxFrameSize));
            Assert.Equal(ErrorCode.FrameTooLarge, peer.Receive().Header.Status);
            Assert.True(peer.IsClosedByServer());
        }

        // A different version after the handshake: answered, then closed.
        using (var peer = await RawPeer.AuthenticateAsync(endpoint, secret))
        {
            peer.Send(RawPeer.Frame(Opcode.Status, 1, [], version: 2));
            Assert.Equal(ErrorCode.UnsupportedVersion, peer.Receive().Header.Status);
            Assert.True(peer.IsClosedByServer());
        }

        // Bad magic after the handshake: answered, then closed.
        using (var peer = await RawPeer.AuthenticateAsync(endpoint, secret))
        {
            var frame = RawPeer.Frame(Opcode.Status, 1, []);
            frame[4] = 0xAA;
            peer.Send(frame);
            Assert.Equal(ErrorCode.MalformedFrame, peer.Receive().Header.Status);
            Assert.True(peer.IsClosedByServer());
        }

        // Half a frame, then the peer vanishes.
        using (var peer = await RawPeer.AuthenticateAsync(endpoint, secret))
            peer.Send(RawPeer.Frame(Opcode.Write, 1, new byte[5000])[..3000]);
    }
}
