using RemoteMem.Transport.Internal;
using RemoteMem.Wire;

namespace RemoteMem.Transport;

/// <summary>
/// The server side of one authenticated connection, as a handler sees it. Methods marked "loop only"
/// may be called only from <see cref="IFrameHandler.OnFrame"/>; the rest from any thread.
/// </summary>
public sealed class FrameConnection
{
    private readonly ConnectionOutput _output;
    private readonly CancellationTokenSource _closed = new();

    internal FrameConnection(long id, ConnectionOutput output, string? remote, Handshake.Agreement agreement)
    {
        Id = id;
        _output = output;
        RemoteEndPoint = remote;
        Version = agreement.Version;
        MaxFrameSize = agreement.MaxFrameSize;
        Role = agreement.PeerRole;
    }

    public long Id { get; }

    /// <summary>The role the peer authenticated as.</summary>
    public PeerRole Role { get; }

    public string? RemoteEndPoint { get; }

    public byte Version { get; }

    public int MaxFrameSize { get; }

    /// <summary>Per-connection state owned by the handler (e.g. a verified-capability cache).</summary>
    public object? State { get; set; }

    /// <summary>Cancelled when the connection closes.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Loop only: answers <paramref name="request"/> with a payload.</summary>
    public void Respond(in FrameHeader request, ReadOnlySpan<byte> payload)
    {
        _output.WriteHeader(request.ToResponse(payload.Length) with { Version = Version });
        _output.WriteData(payload);
    }

    /// <summary>Loop only: answers with an error code and message.</summary>
    public void RespondError(in FrameHeader request, ErrorCode code, string message)
    {
        var payload = ErrorPayload.Encode(message);
        _output.WriteHeader(request.ToResponse(payload.Length, code) with { Version = Version });
        _output.WriteData(payload);
    }

    /// <summary>
    /// Loop only, zero-copy: writes the answer's header for a payload of <paramref name="payloadLength"/>
    /// bytes; the caller must then pass exactly that many bytes to <see cref="ContinueResponse"/>.
    /// </summary>
    public void BeginResponse(in FrameHeader request, int payloadLength) =>
        _output.WriteHeader(request.ToResponse(payloadLength) with { Version = Version });

    /// <summary>
    /// Loop only: the next part of the payload announced by <see cref="BeginResponse"/>. Large parts may
    /// go from <paramref name="part"/> to the socket directly, so it must stay valid only during the call.
    /// </summary>
    public void ContinueResponse(ReadOnlySpan<byte> part) => _output.WriteData(part);

    /// <summary>Any thread: answers a request whose handling went asynchronous.</summary>
    public Task RespondAsync(FrameHeader request, ErrorCode status, ReadOnlyMemory<byte> payload) =>
        _output.SendAsync(request.ToResponse(payload.Length, status) with { Version = Version }, payload, Closed);

    /// <summary>Any thread: sends an unsolicited event frame (request id 0).</summary>
    public Task SendEventAsync(Opcode opcode, ReadOnlyMemory<byte> payload) =>
        _output.SendAsync(new FrameHeader(payload.Length, Version, opcode, 0, ErrorCode.Ok, FrameFlags.Event), payload, Closed);

    internal void MarkClosed()
    {
        try { _closed.Cancel(); } catch (ObjectDisposedException) { }
    }
}
