using RemoteMem.Transport.Internal;

namespace RemoteMem.Transport;

/// <summary>
/// A transport that can send a read before its caller knows where the bytes go: a scan sends the read
/// of its next block while it receives the current one, so the donor never waits for the next request,
/// and the next block's bytes still land in the caller's buffer with no copy (over TCP they wait in the
/// socket until claimed). Optional: the client scans without it where a transport lacks it.
/// </summary>
public interface IReadAheadTransport
{
    /// <summary>
    /// Sends a read of <paramref name="ops"/> (all in <paramref name="target"/>'s segment), each op's
    /// <see cref="IoOp.Local"/> an offset from the destination given at <see cref="ReadAhead.CompleteAsync"/>.
    /// Never waits or throws: returns a read-ahead that is not <see cref="ReadAhead.IsStarted"/> when it
    /// cannot send at once (no connection yet, no free request slot, a spilled segment, ops that would
    /// not make one valid request).
    /// </summary>
    ReadAhead BeginReadAhead(SegmentTarget target, ReadOnlySpan<IoOp> ops);
}

/// <summary>
/// A read in flight whose destination is not known yet (<see cref="IReadAheadTransport"/>). Exactly one
/// of <see cref="CompleteAsync"/> or <see cref="Abandon"/> must follow, once.
/// </summary>
public readonly struct ReadAhead
{
    private readonly DataConnection? _connection;
    private readonly PendingRequest? _slot;
    private readonly uint _generation;

    internal ReadAhead(DataConnection connection, PendingRequest slot)
    {
        _connection = connection;
        _slot = slot;
        _generation = slot.Generation;
    }

    /// <summary>False for a read-ahead the transport could not send.</summary>
    public bool IsStarted => _slot is not null;

    /// <summary>
    /// Delivers the bytes to <paramref name="destinationBase"/> plus each op's offset (memory that must
    /// stay pinned until this completes). True when they are there; false when the read-ahead was not
    /// started, was dropped (not claimed in time) or failed: the caller then reads the ordinary way,
    /// which reports any error as a read does. Throws only if used twice.
    /// </summary>
    public ValueTask<bool> CompleteAsync(nint destinationBase) =>
        _slot is null ? new ValueTask<bool>(false) : _connection!.CompleteReadAheadAsync(_slot, _generation, destinationBase);

    /// <summary>Gives the read-ahead up: its bytes are discarded when they arrive.</summary>
    public void Abandon()
    {
        if (_slot is not null) _connection!.AbandonReadAhead(_slot, _generation);
    }
}
