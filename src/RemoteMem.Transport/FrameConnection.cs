using System.Buffers;
using System.IO.Pipelines;
using RemoteMem.Transport.Internal;
using RemoteMem.Wire;

namespace RemoteMem.Transport;

/// <summary>
/// The server side of one authenticated connection, as a handler sees it. Methods marked "loop only"
/// may be called only from <see cref="IFrameHandler.OnFrame"/>; the rest from any thread.
/// </summary>
public sealed class FrameConnection
{
    private readonly SocketPipe _pipe;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _closed = new();

    internal FrameConnection(long id, SocketPipe pipe, string? remote, Handshake.Agreement agreement)
    {
        Id = id;
        _pipe = pipe;
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

    internal PipeWriter Output => _pipe.Output;

    internal SemaphoreSlim WriteLock => _writeLock;

    /// <summary>Loop only: answers <paramref name="request"/> with a payload.</summary>
    public void Respond(in FrameHeader request, ReadOnlySpan<byte> payload) =>
        FrameIO.WriteFrame(_pipe.Output, request.ToResponse(payload.Length) with { Version = Version }, payload);

    /// <summary>Loop only: answers with an error code and message.</summary>
    public void RespondError(in FrameHeader request, ErrorCode code, string message) =>
        FrameIO.WriteFrame(_pipe.Output, request.ToResponse(0, code) with { Version = Version }, ErrorPayload.Encode(message));

    /// <summary>
    /// Loop only, zero-copy: writes the answer's header for a payload of <paramref name="payloadLength"/>
    /// bytes and returns the writer; the caller must write exactly that many bytes to it.
    /// </summary>
    public IBufferWriter<byte> BeginResponse(in FrameHeader request, int payloadLength)
    {
        var output = _pipe.Output;
        (request.ToResponse(payloadLength) with { Version = Version }).Write(output.GetSpan(FrameHeader.Size));
        output.Advance(FrameHeader.Size);
        return output;
    }

    /// <summary>Any thread: answers a request whose handling went asynchronous.</summary>
    public Task RespondAsync(FrameHeader request, ErrorCode status, ReadOnlyMemory<byte> payload) =>
        SendAsync(request.ToResponse(payload.Length, status) with { Version = Version }, payload);

    /// <summary>Any thread: sends an unsolicited event frame (request id 0).</summary>
    public Task SendEventAsync(Opcode opcode, ReadOnlyMemory<byte> payload) =>
        SendAsync(new FrameHeader(payload.Length, Version, opcode, 0, ErrorCode.Ok, FrameFlags.Event), payload);

    private async Task SendAsync(FrameHeader header, ReadOnlyMemory<byte> payload)
    {
        if (_closed.IsCancellationRequested) return;
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_closed.IsCancellationRequested) return;
            await FrameIO.WriteFrameAsync(_pipe.Output, header, payload, CancellationToken.None).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // The output completed under us: the connection is closing and the peer sees that.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    internal void MarkClosed()
    {
        try { _closed.Cancel(); } catch (ObjectDisposedException) { }
    }
}
