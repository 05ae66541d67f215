using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Transport.Internal;

/// <summary>
/// The connection handshake (docs/protocol.md, "Handshake"): Hello / HelloReply / Auth. Agrees on the
/// protocol version and frame size and proves to each side that the other holds the cluster secret.
/// </summary>
internal static class Handshake
{
    public readonly record struct Agreement(byte Version, int MaxFrameSize, PeerRole PeerRole);

    public static async Task<Agreement> RunClientAsync(IFrameChannel pipe, ClusterSecret secret, PeerRole role, int maxFrameSize, string endpoint, CancellationToken cancellationToken)
    {
        var clientNonce = HandshakeProof.NewNonce();
        var hello = new Hello(WireLimits.MinimumVersion, WireLimits.CurrentVersion, maxFrameSize, role, clientNonce);
        await pipe.WriteFrameAsync(new FrameHeader(0, WireLimits.MinimumVersion, Opcode.Hello, 1, ErrorCode.Ok, FrameFlags.None), hello.Encode(), cancellationToken).ConfigureAwait(false);

        var (_, replyPayload) = await ReadReplyAsync(pipe, Opcode.Hello, endpoint, cancellationToken).ConfigureAwait(false);
        var reply = HelloReply.Decode(replyPayload);
        if (reply.Version < WireLimits.MinimumVersion || reply.Version > WireLimits.CurrentVersion)
            throw new WireException(ErrorCode.UnsupportedVersion, $"{endpoint} chose protocol version {reply.Version}, which this build does not speak.");
        if (reply.MaxFrameSize < WireLimits.MinMaxFrameSize || reply.MaxFrameSize > maxFrameSize)
            throw new WireException(ErrorCode.MalformedFrame, $"{endpoint} chose a maximum frame size of {reply.MaxFrameSize} bytes, outside [{WireLimits.MinMaxFrameSize}, {maxFrameSize}].");
        var expected = HandshakeProof.Compute(secret, fromServer: true, role, clientNonce, reply.ServerNonce);
        if (!HandshakeProof.Matches(expected, reply.ServerProof))
            throw new WireException(ErrorCode.AuthenticationFailed, $"{endpoint} does not hold this cluster's secret (check REMOTEMEM_SECRET / --secret-file on both sides).");

        var proof = HandshakeProof.Compute(secret, fromServer: false, role, clientNonce, reply.ServerNonce);
        await pipe.WriteFrameAsync(new FrameHeader(0, reply.Version, Opcode.Auth, 2, ErrorCode.Ok, FrameFlags.None), new AuthRequest(proof).Encode(), cancellationToken).ConfigureAwait(false);
        await ReadReplyAsync(pipe, Opcode.Auth, endpoint, cancellationToken).ConfigureAwait(false);
        return new Agreement(reply.Version, reply.MaxFrameSize, role);
    }

    private static async Task<(FrameHeader, byte[])> ReadReplyAsync(IFrameChannel pipe, Opcode opcode, string endpoint, CancellationToken cancellationToken)
    {
        var frame = await pipe.ReadFrameAsync(WireLimits.MinMaxFrameSize, cancellationToken).ConfigureAwait(false)
            ?? throw new ConnectionFailedException(endpoint, "closed the connection during the handshake");
        var (header, payload) = frame;
        if (header.Status != ErrorCode.Ok)
            throw new WireException(header.Status, $"{endpoint} refused the handshake: {ErrorPayload.Decode(header.Status, payload)}");
        if (!header.IsResponse || header.Opcode != opcode)
            throw new WireException(ErrorCode.MalformedFrame, $"{endpoint} answered the handshake with {header.Opcode}.");
        return (header, payload);
    }

    /// <summary>Server side. Returns null (after answering with an error) when the peer fails the handshake.</summary>
    public static async Task<Agreement?> RunServerAsync(IFrameChannel pipe, ClusterSecret secret, int maxFrameSize, CancellationToken cancellationToken)
    {
        var first = await pipe.ReadFrameAsync(WireLimits.MinMaxFrameSize, cancellationToken).ConfigureAwait(false);
        if (first is null) return null;
        var (header, payload) = first.Value;
        if (header.Opcode != Opcode.Hello || header.IsResponse)
        {
            await RefuseAsync(pipe, header, ErrorCode.NotAuthenticated, "The first frame on a connection must be Hello.", cancellationToken).ConfigureAwait(false);
            return null;
        }

        var hello = Hello.Decode(payload);
        byte version = Math.Min(hello.MaxVersion, WireLimits.CurrentVersion);
        if (version < hello.MinVersion || version < WireLimits.MinimumVersion)
        {
            await RefuseAsync(pipe, header, ErrorCode.UnsupportedVersion,
                $"Client speaks versions {hello.MinVersion}-{hello.MaxVersion}; this server speaks {WireLimits.MinimumVersion}-{WireLimits.CurrentVersion}.", cancellationToken).ConfigureAwait(false);
            return null;
        }

        if (!Enum.IsDefined(hello.Role))
        {
            await RefuseAsync(pipe, header, ErrorCode.InvalidArgument, $"Unknown peer role {(byte)hello.Role}.", cancellationToken).ConfigureAwait(false);
            return null;
        }

        int agreedFrame = Math.Min(hello.MaxFrameSize, maxFrameSize);
        if (agreedFrame < WireLimits.MinMaxFrameSize)
        {
            await RefuseAsync(pipe, header, ErrorCode.FrameTooLarge, $"A maximum frame size below {WireLimits.MinMaxFrameSize} bytes is not allowed.", cancellationToken).ConfigureAwait(false);
            return null;
        }

        var serverNonce = HandshakeProof.NewNonce();
        var reply = new HelloReply(version, agreedFrame, serverNonce, HandshakeProof.Compute(secret, fromServer: true, hello.Role, hello.ClientNonce, serverNonce));
        await pipe.WriteFrameAsync(header.ToResponse(0), reply.Encode(), cancellationToken).ConfigureAwait(false);

        var second = await pipe.ReadFrameAsync(WireLimits.MinMaxFrameSize, cancellationToken).ConfigureAwait(false);
        if (second is null) return null;
        var (authHeader, authPayload) = second.Value;
        if (authHeader.Opcode != Opcode.Auth || authHeader.IsResponse)
        {
            await RefuseAsync(pipe, authHeader, ErrorCode.NotAuthenticated, "Expected Auth after Hello.", cancellationToken).ConfigureAwait(false);
            return null;
        }

        var auth = AuthRequest.Decode(authPayload);
        var expected = HandshakeProof.Compute(secret, fromServer: false, hello.Role, hello.ClientNonce, serverNonce);
        if (!HandshakeProof.Matches(expected, auth.ClientProof))
        {
            await RefuseAsync(pipe, authHeader, ErrorCode.AuthenticationFailed, "The client does not hold this cluster's secret.", cancellationToken).ConfigureAwait(false);
            return null;
        }

        await pipe.WriteFrameAsync(authHeader.ToResponse(0) with { Version = version }, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        return new Agreement(version, agreedFrame, hello.Role);
    }

    private static async Task RefuseAsync(IFrameChannel pipe, FrameHeader request, ErrorCode code, string message, CancellationToken cancellationToken)
    {
        await pipe.WriteFrameAsync(request.ToResponse(0, code) with { Version = WireLimits.MinimumVersion }, ErrorPayload.Encode(message), cancellationToken).ConfigureAwait(false);
    }
}
