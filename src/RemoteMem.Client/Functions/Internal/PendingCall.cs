using System.Threading.Tasks.Sources;

namespace RemoteMem.Client.Functions.Internal;

/// <summary>
/// One call slot of an <see cref="ExecutorConnection"/>: pooled and re-armed per call, so a call in
/// steady state allocates nothing. Whoever completes it (the receive thread with the answer, the
/// deadline check, a cancellation, a lost connection) first claims it by its request id, so exactly one
/// does, and an answer that comes after its caller gave up cannot complete the slot's next call.
/// </summary>
internal sealed class PendingCall(int slot) : IValueTaskSource<int>
{
    private ManualResetValueTaskSourceCore<int> _core;
    private ulong _armedId;
    private Memory<byte> _destination;
    private bool _allocate;

    public int Slot { get; } = slot;

    public string Function { get; private set; } = "";

    public long DeadlineTimestamp { get; private set; }

    /// <summary>The answer, when the call asked for a new array rather than a destination.</summary>
    public byte[]? Result { get; private set; }

    /// <summary>The request id while the call waits for its answer; 0 once claimed.</summary>
    public ulong ArmedId => Volatile.Read(ref _armedId);

    public ValueTask<int> Arm(ulong requestId, string function, long deadlineTimestamp, Memory<byte> destination, bool allocate, bool inline)
    {
        _core.Reset();
        _core.RunContinuationsAsynchronously = !inline;
        Function = function;
        DeadlineTimestamp = deadlineTimestamp;
        _destination = destination;
        _allocate = allocate;
        Result = null;
        Volatile.Write(ref _armedId, requestId);
        return new ValueTask<int>(this, _core.Version);
    }

    /// <summary>Takes the call for completion if it is still waiting under <paramref name="requestId"/>.</summary>
    public bool TryClaim(ulong requestId) => requestId != 0 && Interlocked.CompareExchange(ref _armedId, 0, requestId) == requestId;

    /// <summary>Completes a claimed call with its answer: copied to the destination, or into a new array.</summary>
    public void Succeed(ReadOnlySpan<byte> payload)
    {
        if (_allocate)
        {
            Result = payload.ToArray();
        }
        else if (payload.Length > _destination.Length)
        {
            _core.SetException(new ArgumentException($"Function '{Function}' returned {payload.Length} bytes, more than the {_destination.Length}-byte output buffer holds."));
            return;
        }
        else
        {
            payload.CopyTo(_destination.Span);
        }

        _core.SetResult(payload.Length);
    }

    /// <summary>Completes a claimed call with an error.</summary>
    public void Fail(Exception error) => _core.SetException(error);

    /// <summary>Drops what the finished call referenced (its caller's buffer, its answer), before the slot is reused.</summary>
    public void Clear()
    {
        _destination = default;
        Result = null;
    }

    public int GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
