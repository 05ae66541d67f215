using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace RemoteMem.Fabric.Internal;

/// <summary>
/// One posted read or write: a pooled <see cref="IValueTaskSource"/> paired for life with one 64-byte native
/// context slot (the completion's context pointer maps back to it), so an operation allocates nothing.
/// <para>
/// Two parties own a posted operation: the provider (until the completion for its context has been read, it
/// may write into the context) and the caller (until it has taken the result). Whoever lets go last returns
/// the operation to its pool. A deadline can complete the caller's side first: the operation then stays out
/// of the pool, quarantined, until the provider lets go too (a late completion, or the endpoint's close),
/// so a context the provider might still write is never handed to another operation.
/// </para>
/// </summary>
internal sealed class FabricOperation : IValueTaskSource
{
    // The state lives in the low two bits of a word whose upper bits count postings, so a deadline check
    // that raced with a completion and a re-post cannot time out the next posting of the same slot.
    private const long Idle = 0, Pending = 1, Done = 2, StateMask = 3, OnePosting = 4;
    private const int ProviderShare = 1, CallerShare = 2;

    private readonly OperationPool _pool;
    private readonly object _gate = new();
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private long _word;
    private int _owners;
    private bool _synchronous;
    private bool _signaled;
    private volatile bool _timedOut;
    private Exception? _error;

    public FabricOperation(OperationPool pool, int index, nint context)
    {
        _pool = pool;
        Index = index;
        Context = context;
    }

    public int Index { get; }

    /// <summary>The RMRDMA_CONTEXT_SIZE bytes of native memory handed to the provider with the post.</summary>
    public nint Context { get; }

    public bool IsWrite { get; private set; }

    public long Length { get; private set; }

    public ulong RemoteAddress { get; private set; }

    public FabricPeer? Peer { get; private set; }

    /// <summary>The peer's fi_addr in the data path the operation was rented from.</summary>
    public ulong PeerAddress { get; private set; }

    public nint Local { get; private set; }

    public nint Descriptor { get; private set; }

    public ulong Key { get; private set; }

    public bool DeliveryComplete { get; private set; }

    /// <summary>Refused with -FI_EAGAIN and queued for the progress thread to post; false once the provider took it.</summary>
    public bool Deferred { get; set; }

    public long PostedTimestamp { get; private set; }

    public long DeadlineTimestamp { get; private set; }

    /// <summary>State and posting count, for <see cref="TryTimeOut"/>.</summary>
    public long Word => Volatile.Read(ref _word);

    public static bool IsPendingWord(long word) => (word & StateMask) == Pending;

    public bool IsPending => IsPendingWord(Word);

    /// <summary>Timed out and still held by the provider: its context must not be reused yet.</summary>
    public bool IsQuarantined => _timedOut && (Volatile.Read(ref _owners) & ProviderShare) != 0;

    /// <summary>Prepares a rented operation for a post. Both parties own it from here.</summary>
    public void Arm(bool isWrite, FabricPeer peer, ulong peerAddress, nint local, nint descriptor, ulong remoteAddress, ulong key, long length, bool deliveryComplete, long deadlineTimestamp, bool synchronous)
    {
        IsWrite = isWrite;
        Peer = peer;
        PeerAddress = peerAddress;
        Local = local;
        Descriptor = descriptor;
        RemoteAddress = remoteAddress;
        Key = key;
        Length = length;
        DeliveryComplete = deliveryComplete;
        Deferred = false;
        PostedTimestamp = Stopwatch.GetTimestamp();
        DeadlineTimestamp = deadlineTimestamp;
        _synchronous = synchronous;
        _signaled = false;
        _timedOut = false;
        _error = null;
        Volatile.Write(ref _owners, ProviderShare | CallerShare);
        Volatile.Write(ref _word, ((Word & ~StateMask) + OnePosting) | Pending);
    }

    public ValueTask AsValueTask() => new(this, _core.Version);

    /// <summary>Completes the caller's side once; false when something else completed it first.</summary>
    public bool TryComplete(Exception? error)
    {
        long word;
        do
        {
            word = Word;
            if (!IsPendingWord(word)) return false;
        }
        while (Interlocked.CompareExchange(ref _word, (word & ~StateMask) | Done, word) != word);
        Signal(error);
        return true;
    }

    /// <summary>
    /// The deadline of the posting seen as <paramref name="observedWord"/> passed: fail the caller now and keep
    /// the context quarantined for the provider. False when that posting completed meanwhile.
    /// </summary>
    public bool TryTimeOut(long observedWord, Exception error)
    {
        if (!IsPendingWord(observedWord)) return false;
        _timedOut = true; // before the switch: a release racing with it must see it (diagnostics only)
        if (Interlocked.CompareExchange(ref _word, (observedWord & ~StateMask) | Done, observedWord) != observedWord)
        {
            _timedOut = false;
            return false;
        }

        Signal(error);
        return true;
    }

    private void Signal(Exception? error)
    {
        _error = error;
        if (error is FabricConnectionBrokenException) _pool.MarkBroken();
        if (_synchronous)
        {
            lock (_gate)
            {
                _signaled = true;
                Monitor.PulseAll(_gate);
            }
        }
        else
        {
            _core.SetResult(true);
        }
    }

    /// <summary>The provider is done with the context (completion read, nothing posted, or endpoint closed).</summary>
    public void ReleaseProvider() => Release(ProviderShare);

    /// <summary>Blocks a synchronous caller until the operation completes; throws its error.</summary>
    public void Wait()
    {
        lock (_gate)
        {
            while (!_signaled) Monitor.Wait(_gate);
        }

        TakeResult();
    }

    public string Describe() =>
        $"fabric {(IsWrite ? "write" : "read")} of {Length} B at remote address 0x{RemoteAddress:x} (peer {Peer?.Id.ToString() ?? "?"})";

    void IValueTaskSource.GetResult(short token)
    {
        _core.GetResult(token); // validates the token: a ValueTask is awaited once
        TakeResult();
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void TakeResult()
    {
        var error = _error; // read before letting go: the operation may be reused right after
        Release(CallerShare);
        if (error is not null) throw error;
    }

    private void Release(int share)
    {
        int before = Interlocked.And(ref _owners, ~share);
        if ((before & share) == 0 || before != share) return; // not held, or the other party still holds it
        _error = null;
        Peer = null;
        _timedOut = false;
        _core.Reset();
        Volatile.Write(ref _word, (Word & ~StateMask) | Idle);
        _pool.Return(this);
    }
}
