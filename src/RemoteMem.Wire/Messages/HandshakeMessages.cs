namespace RemoteMem.Wire.Messages;

/// <summary>Client to server, first frame on a connection: the versions and frame size the client accepts.</summary>
public sealed record Hello(byte MinVersion, byte MaxVersion, int MaxFrameSize, PeerRole Role, byte[] ClientNonce)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteByte(MinVersion);
        w.WriteByte(MaxVersion);
        w.WriteInt32(MaxFrameSize);
        w.WriteByte((byte)Role);
        w.WriteBytes(ClientNonce);
    });

    public static Hello Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var hello = new Hello(r.ReadByte(), r.ReadByte(), r.ReadInt32(), (PeerRole)r.ReadByte(), r.ReadBytes(HandshakeProof.NonceSize).ToArray());
        r.EnsureEnd();
        return hello;
    }
}

/// <summary>Server's answer to <see cref="Hello"/>: the agreed version and frame size, its nonce and its proof.</summary>
public sealed record HelloReply(byte Version, int MaxFrameSize, byte[] ServerNonce, byte[] ServerProof)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteByte(Version);
        w.WriteInt32(MaxFrameSize);
        w.WriteBytes(ServerNonce);
        w.WriteBytes(ServerProof);
    });

    public static HelloReply Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var reply = new HelloReply(r.ReadByte(), r.ReadInt32(), r.ReadBytes(HandshakeProof.NonceSize).ToArray(), r.ReadBytes(32).ToArray());
        r.EnsureEnd();
        return reply;
    }
}

/// <summary>Client to server: the client's proof. Answered with an empty OK, or AuthenticationFailed and a close.</summary>
public sealed record AuthRequest(byte[] ClientProof)
{
    public byte[] Encode() => ClientProof.ToArray();

    public static AuthRequest Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var auth = new AuthRequest(r.ReadBytes(32).ToArray());
        r.EnsureEnd();
        return auth;
    }
}
