using System.Buffers.Binary;
using System.Net.Sockets;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Tests.Infrastructure;

/// <summary>
/// A hand-rolled peer on a raw socket: speaks the handshake from the protocol document (not through
/// the transport's code) and then sends whatever bytes a test wants, well-formed or not.
/// </summary>
public sealed class RawPeer : IDisposable
{
    private readonly Socket _socket;

    private RawPeer(Socket socket) => _socket = socket;

    public static async Task<RawPeer> ConnectAsync(string endpoint)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000, SendTimeout = 10_000 };
        await socket.ConnectAsync(await Endpoints.ResolveAsync(endpoint, CancellationToken.None));
        return new RawPeer(socket);
    }

    /// <summary>Connects and completes the handshake as <paramref name="role"/>.</summary>
    public static async Task<RawPeer> AuthenticateAsync(string endpoint, ClusterSecret secret, PeerRole role = PeerRole.Client)
    {
        var peer = await ConnectAsync(endpoint);
        var nonce = HandshakeProof.NewNonce();
        peer.Send(Frame(Opcode.Hello, 1, new Hello(1, 1, WireLimits.DefaultMaxFrameSize, role, nonce).Encode()));
        var (header, payload) = peer.Receive();
        Assert.Equal(ErrorCode.Ok, header.Status);
        var reply = HelloReply.Decode(payload);
        Assert.True(HandshakeProof.Matches(HandshakeProof.Compute(secret, true, role, nonce, reply.ServerNonce), reply.ServerProof));
        peer.Send(Frame(Opcode.Auth, 2, HandshakeProof.Compute(secret, false, role, nonce, reply.ServerNonce)));
        Assert.Equal(ErrorCode.Ok, peer.Receive().Header.Status);
        return peer;
    }

    public static byte[] Frame(Opcode opcode, ulong requestId, ReadOnlySpan<byte> payload, byte version = 1, int? claimedLength = null, FrameFlags flags = FrameFlags.None)
    {
        var frame = new byte[FrameHeader.Size + payload.Length];
        new FrameHeader(claimedLength ?? payload.Length, version, opcode, requestId, ErrorCode.Ok, flags).Write(frame);
        payload.CopyTo(frame.AsSpan(FrameHeader.Size));
        if (claimedLength is { } claimed) BinaryPrimitives.WriteInt32LittleEndian(frame, claimed);
        return frame;
    }

    public void Send(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty) bytes = bytes[_socket.Send(bytes)..];
    }

    /// <summary>Reads one frame; throws when the peer closes first.</summary>
    public (FrameHeader Header, byte[] Payload) Receive()
    {
        var head = ReadExactly(FrameHeader.Size);
        Assert.True(FrameHeader.TryRead(head, out var header, out _), "the server sent an invalid frame header");
        return (header, ReadExactly(header.PayloadLength));
    }

    /// <summary>True when the server closed the connection (reads end) within the socket timeout.</summary>
    public bool IsClosedByServer()
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                int n = _socket.Receive(buffer);
                if (n == 0) return true;
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TimedOut)
        {
            return false;
        }
    }

    private byte[] ReadExactly(int count)
    {
        var buffer = new byte[count];
        int done = 0;
        while (done < count)
        {
            int n = _socket.Receive(buffer, done, count - done, SocketFlags.None);
            if (n == 0) throw new IOException($"server closed the connection after {done} of {count} bytes");
            done += n;
        }

        return buffer;
    }

    public void Dispose() => _socket.Dispose();
}
