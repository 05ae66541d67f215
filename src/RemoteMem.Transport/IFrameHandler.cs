using System.Buffers;
using RemoteMem.Wire;

namespace RemoteMem.Transport;

/// <summary>
/// The service behind a <see cref="FrameServer"/>: the donor or the manager. Frames arrive whole,
/// already checked for magic, version and size.
/// </summary>
public interface IFrameHandler
{
    /// <summary>
    /// Handles one request on the connection's processing loop. Answer synchronously with
    /// <see cref="FrameConnection.Respond"/> and friends, or copy what you need out of
    /// <paramref name="payload"/> (valid only during this call) and answer later with
    /// <see cref="FrameConnection.RespondAsync"/>. A <see cref="WireException"/> thrown here is sent back
    /// as its error code; the connection stays open.
    /// </summary>
    void OnFrame(FrameConnection connection, in FrameHeader header, in ReadOnlySequence<byte> payload);

    /// <summary>Called once when an authenticated connection closes.</summary>
    void OnClosed(FrameConnection connection)
    {
    }
}
