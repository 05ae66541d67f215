using RemoteMem.Wire;

namespace RemoteMem.Transport.Internal;

/// <summary>
/// Whole-frame reads and writes as the handshake needs them, so one handshake serves both the
/// pipelined connections (<see cref="SocketPipe"/>) and the blocking ones (<see cref="FrameSocket"/>).
/// </summary>
internal interface IFrameChannel
{
    /// <summary>The next frame, or null when the peer closed.</summary>
    ValueTask<(FrameHeader Header, byte[] Payload)?> ReadFrameAsync(int maxFrameSize, CancellationToken cancellationToken);

    ValueTask WriteFrameAsync(FrameHeader header, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
}
