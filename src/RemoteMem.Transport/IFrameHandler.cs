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

    /// <summary>
    /// Optional, on thread-per-connection servers: offered a request of at least 64 KiB whose header and
    /// prefix have arrived but not the rest, so the handler can take the payload straight into its own
    /// memory (<see cref="DirectPayload.ReceiveInto"/>) and answer as <see cref="OnFrame"/> would. Return
    /// false, before consuming anything, to receive the frame whole and handle it in <see cref="OnFrame"/>
    /// (as for every request when this is not implemented). A request that fails after the handler took
    /// some of its bytes closes the connection.
    /// </summary>
    bool TryReceiveDirect(FrameConnection connection, in FrameHeader header, DirectPayload payload) => false;

    /// <summary>Called once when an authenticated connection closes.</summary>
    void OnClosed(FrameConnection connection)
    {
    }
}
