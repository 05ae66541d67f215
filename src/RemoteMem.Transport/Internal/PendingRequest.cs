using System.Threading.Tasks.Sources;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Transport.Internal;

/// <summary>
/// One request slot of a <see cref="FrameClient"/>: pooled, reset on return, so a request in steady
/// state allocates nothing. The slot carries what the send loop must write and where the receive loop
/// must put the answer, and completes either an awaiter (<see cref="IValueTaskSource"/>) or a blocked
/// synchronous caller.
/// </summary>
internal sealed class PendingRequest : IValueTaskSource
{
    // State machine. Free -> Pending (caller) -> Sending (send loop copies the caller's memory) -> Pending
    // -> Delivering (receive loop copies into the caller's memory) -> Completed -> Free (caller).
    // A failure moves Pending -> Completed only, so no loop ever touches caller memory after the caller woke.
    public const int Free = 0, Pending = 1, Completed = 2, Delivering = 3, Sending = 4;

    private readonly object _gate = new();
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _state;
    private bool _synchronous;
    private Exception? _error;

    public PendingRequest(int index)
    {
        Index = index;
    }

    public int Index { get; }

    public uint Generation;
    public ulong RequestId;
    public Opcode Opcode;
    public readonly byte[] Prefix = new byte[DataRequest.MaxPrefixSize];
    public int PrefixLength;
    public ReadOnlyMemory<byte> ControlPayload;
    public readonly IoOp[] Ops = new IoOp[WireLimits.MaxVectorRanges];
    public int OpCount;
    public bool WritesOps;
    public bool ReadsOps;
    public long DeadlineTicks;
    public byte[]? ResponsePayload;

    /// <summary>The next slot in a <see cref="DataConnection"/>'s queue of requests waiting to be sent.</summary>
    public PendingRequest? NextQueued;

    // A read sent ahead of its destination (see ReadAhead): Ops hold offsets from a base that a claim
    // supplies. NotAhead for every other request. A claim that finds the receive thread holding the
    // answer takes its bytes off the stream itself (ClaimedInline), then hands the stream back with
    // what it moved: all of it (ReceivedInline) or part (Claimed, the receive thread moves the rest).
    public const int NotAhead = 0, AwaitingClaim = 1, Claimed = 2, Dropped = 3, ClaimedInline = 4, ReceivedInline = 5;
    private int _aheadState;
    private int _aheadSettled;
    private nint _aheadBase;
    private bool _held;
    private int _aheadReceived;

    /// <summary>Where a claimed read-ahead's bytes go: each op's Local is an offset from this.</summary>
    public nint AheadBase => _aheadBase;

    /// <summary>Bytes of a claimed read-ahead's answer that its claimer already received (see <see cref="HandBack"/>).</summary>
    public int AheadReceived => _aheadReceived;

    public bool IsReadAhead => Volatile.Read(ref _aheadState) != NotAhead;

    /// <summary>The owner's one claim or abandonment of a read-ahead: false if it already made it.</summary>
    public bool TrySettle() => Interlocked.Exchange(ref _aheadSettled, 1) == 0;

    /// <summary>Before it is sent: marks the request as a read-ahead waiting for its destination.</summary>
    public void ArmReadAhead() => Volatile.Write(ref _aheadState, AwaitingClaim);

    /// <summary>
    /// Gives a read-ahead its destination. Returns <see cref="ClaimedInline"/> when the receive thread is
    /// holding the answer (its bytes are next on the connection): the caller then owns the stream until it
    /// calls <see cref="HandBack"/>. Else <see cref="Claimed"/> (the receive thread moves the bytes) or
    /// <see cref="Dropped"/> (too late).
    /// </summary>
    public int Claim(nint destinationBase)
    {
        lock (_gate)
        {
            if (_aheadState != AwaitingClaim) return Dropped;
            _aheadBase = destinationBase;
            _aheadState = _held ? ClaimedInline : Claimed;
            if (_aheadState == Claimed) Monitor.PulseAll(_gate);
            return _aheadState;
        }
    }

    /// <summary>After <see cref="ClaimedInline"/>: gives the stream back, <paramref name="received"/> bytes of the answer moved.</summary>
    public void HandBack(int received, bool complete)
    {
        lock (_gate)
        {
            _aheadReceived = received;
            _aheadState = complete ? ReceivedInline : Claimed;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Gives up a read-ahead: its answer is read and discarded.</summary>
    public void Drop()
    {
        lock (_gate)
        {
            if (_aheadState != AwaitingClaim) return;
            _aheadState = Dropped;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// The receive loop, at a read-ahead's answer: waits up to <paramref name="milliseconds"/> for its
    /// claim, then drops it; a claimer that took the stream is waited out. Returns <see cref="Claimed"/>
    /// (receive the bytes after <see cref="AheadReceived"/> into <see cref="AheadBase"/>),
    /// <see cref="ReceivedInline"/> (all there) or <see cref="Dropped"/>.
    /// </summary>
    public int AwaitClaim(int milliseconds)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        lock (_gate)
        {
            _held = true;
            for (int left = milliseconds; _aheadState == AwaitingClaim && left > 0;
                 left = milliseconds - (int)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds)
                Monitor.Wait(_gate, left);
            if (_aheadState == AwaitingClaim) _aheadState = Dropped;
            while (_aheadState == ClaimedInline) Monitor.Wait(_gate);
            _held = false;
            return _aheadState;
        }
    }

    public int State => Volatile.Read(ref _state);

    public short Version => _core.Version;

    public void Arm(ulong requestId, bool synchronous, long deadlineTicks)
    {
        RequestId = requestId;
        _synchronous = synchronous;
        DeadlineTicks = deadlineTicks;
        _error = null;
        ResponsePayload = null;
        Volatile.Write(ref _state, Pending);
    }

    public int PayloadLength
    {
        get
        {
            long length = PrefixLength + ControlPayload.Length;
            if (WritesOps)
                for (int i = 0; i < OpCount; i++) length += Ops[i].Length;
            return checked((int)length);
        }
    }

    public long ExpectedResponseLength
    {
        get
        {
            long length = 0;
            for (int i = 0; i < OpCount; i++) length += Ops[i].Length;
            return length;
        }
    }

    public bool TryTransition(int from, int to) => Interlocked.CompareExchange(ref _state, to, from) == from;

    /// <summary>Completes a pending request with an error; a no-op if the receive loop already owns it.</summary>
    public bool TryFail(Exception error)
    {
        // Wait out a send loop that is copying from the caller's buffer: it takes microseconds and never blocks.
        var spinner = new SpinWait();
        while (Volatile.Read(ref _state) == Sending) spinner.SpinOnce();
        if (!TryTransition(Pending, Completed)) return false;
        _error = error;
        Signal();
        return true;
    }

    /// <summary>Called by the receive loop after it moved the slot to Delivering and filled it.</summary>
    public void CompleteDelivery(Exception? error)
    {
        _error = error;
        Volatile.Write(ref _state, Completed);
        Signal();
    }

    private void Signal()
    {
        if (_synchronous)
        {
            lock (_gate) Monitor.PulseAll(_gate);
        }
        else
        {
            _core.SetResult(true);
        }
    }

    /// <summary>Blocks a synchronous caller until the slot completes; throws its error.</summary>
    public void WaitSynchronously()
    {
        lock (_gate)
        {
            while (Volatile.Read(ref _state) != Completed) Monitor.Wait(_gate);
        }

        if (_error is not null) throw _error;
    }

    /// <summary>Returns the slot to the pool's free state; the caller then hands the index back.</summary>
    public void Reset()
    {
        ControlPayload = default;
        OpCount = 0;
        WritesOps = ReadsOps = false;
        PrefixLength = 0;
        _aheadState = NotAhead;
        _aheadSettled = 0;
        _aheadBase = 0;
        _aheadReceived = 0;
        Generation++;
        if (!_synchronous) _core.Reset();
        Volatile.Write(ref _state, Free);
    }

    public ValueTask AsValueTask() => new(this, _core.Version);

    void IValueTaskSource.GetResult(short token)
    {
        _core.GetResult(token);
        if (_error is not null) throw _error;
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
