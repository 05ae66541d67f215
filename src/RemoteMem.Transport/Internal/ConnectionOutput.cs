using RemoteMem.Wire;

namespace RemoteMem.Transport.Internal;

/// <summary>
/// Where a server connection's answers go: a pipe drained by a send loop (<see cref="PipeConnectionOutput"/>)
/// or the socket itself, written by the connection's own thread (<see cref="SocketConnectionOutput"/>).
/// The loop's writes happen while it handles frames; <see cref="SendAsync"/> comes from any thread.
/// </summary>
internal abstract class ConnectionOutput
{
    /// <summary>Loop only: a frame header; the payload follows through <see cref="WriteData"/>.</summary>
    public abstract void WriteHeader(in FrameHeader header);

    /// <summary>Loop only: the next bytes of the payload announced by the last header.</summary>
    public abstract void WriteData(ReadOnlySpan<byte> data);

    /// <summary>Any thread: one whole frame, sent before this completes (dropped if the connection is gone).</summary>
    public abstract Task SendAsync(FrameHeader header, ReadOnlyMemory<byte> payload, CancellationToken closed);
}
