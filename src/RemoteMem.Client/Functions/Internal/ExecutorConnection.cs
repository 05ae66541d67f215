using System.Diagnostics;
using System.Net.Sockets;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Client.Functions.Internal;

/// <summary>
/// One connection to an executor, served there by one worker. Requests are written with one send from
/// the caller's thread; a dedicated thread receives and completes callers by request id, so many calls
/// are in flight and each answer finds its caller. Calls live in pooled slots (<see cref="PendingCall"/>):
/// the request id carries the slot, and a call allocates nothing in steady state.
/// </summary>
internal sealed class ExecutorConnection : IDisposable
{
    /// <summary>Calls in flight per connection; more wait for a slot.</summary>
    public const int MaxInFlight = 1024;

    private const int SlotBits = 10;
    private readonly FrameSocket _socket;
    private readonly ulong _leaseId;
    private readonly bool _inlineCompletions;
    private readonly long _spinTicks;
    private readonly PendingCall[] _slots = new PendingCall[MaxInFlight];
    private readonly Stack<int> _free = new(MaxInFlight);
    private readonly SemaphoreSlim _available = new(MaxInFlight, MaxInFlight);
    private readonly Thread _receiver;
    private long _generation;
    private int _inFlight;
    private volatile string? _lostReason;

    public ExecutorConnection(FrameSocket socket, ulong leaseId, bool inlineCompletions, TimeSpan answerSpin)
    {
        _socket = socket;
        _leaseId = leaseId;
        _inlineCompletions = inlineCompletions;
        _spinTicks = (long)(answerSpin.TotalSeconds * Stopwatch.Frequency);
        for (int i = MaxInFlight - 1; i >= 0; i--)
        {
            _slots[i] = new PendingCall(i);
            _free.Push(i);
        }

        _receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = $"executor-{leaseId}-receive" };
        _receiver.Start();
    }

    public int InFlight => Volatile.Read(ref _inFlight);

    public int MaxPayload => _socket.MaxFrameSize - FrameHeader.Size - InvokePrefix.Size;

    public bool IsLost => _lostReason is not null;

    /// <summary>Waits for a free slot (at once, without allocating, unless <see cref="MaxInFlight"/> calls are in flight).</summary>
    public async ValueTask<PendingCall> RentAsync(CancellationToken cancellationToken)
    {
        await _available.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_free) return _slots[_free.Pop()];
    }

    /// <summary>Gives a slot back once its caller has taken the outcome.</summary>
    public void Return(PendingCall call)
    {
        call.Clear();
        lock (_free) _free.Push(call.Slot);
        _available.Release();
    }

    /// <summary>
    /// Sends a request in a rented slot and returns the wait for its answer: the answer's length, copied
    /// to <paramref name="destination"/>, or (with <paramref name="allocate"/>) in <see cref="PendingCall.Result"/>.
    /// </summary>
    public ValueTask<int> Send(PendingCall call, Opcode opcode, string function, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> body,
        long deadlineTimestamp, Memory<byte> destination, bool allocate)
    {
        ulong id = ((ulong)Interlocked.Increment(ref _generation) << SlotBits) | (uint)call.Slot;
        var pending = call.Arm(id, function, deadlineTimestamp, destination, allocate, _inlineCompletions);
        Interlocked.Increment(ref _inFlight);
        if (_lostReason is { } lost)
        {
            Complete(call, id, Lost(lost));
            return pending;
        }

        try
        {
            _socket.Send(new FrameHeader(0, _socket.Version, opcode, id, ErrorCode.Ok, FrameFlags.None), prefix, body);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            Complete(call, id, Lost(ex.Message));
        }

        // The connection may have died between the check and the send: its final sweep missed this call.
        if (_lostReason is { } late) Complete(call, id, Lost(late));
        return pending;
    }

    /// <summary>Fails the call if it still waits under <paramref name="requestId"/> (cancellation).</summary>
    public void Cancel(PendingCall call, ulong requestId) =>
        Complete(call, requestId, new OperationCanceledException($"The call to '{call.Function}' was cancelled; the executor may still run it."));

    /// <summary>Fails calls whose deadline (plus a grace for the answer to travel) has passed without an answer.</summary>
    public void ExpireOverdue(long now)
    {
        if (InFlight == 0) return;
        foreach (var call in _slots)
        {
            ulong id = call.ArmedId;
            if (id == 0 || now < call.DeadlineTimestamp) continue;
            Complete(call, id, new FunctionTimeoutException(call.Function,
                $"Function '{call.Function}' did not answer by its deadline; the executor's worker may still be running it, and later calls on that worker wait behind it."));
        }
    }

    private void Complete(PendingCall call, ulong id, Exception error)
    {
        if (!call.TryClaim(id)) return;
        Interlocked.Decrement(ref _inFlight);
        call.Fail(error);
    }

    private void ReceiveLoop()
    {
        string reason = "the executor closed the connection";
        try
        {
            while (SpinForAnswer() && _socket.ReadFrame(out var header, out var payload))
            {
                var call = _slots[(int)(header.RequestId & (MaxInFlight - 1))];
                if (!call.TryClaim(header.RequestId)) continue; // its caller already gave up (deadline, cancellation)
                Interlocked.Decrement(ref _inFlight);
                if (header.Status == ErrorCode.Ok) call.Succeed(payload);
                else call.Fail(ToException(call.Function, header.Status, ErrorPayload.Decode(header.Status, payload)));
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException or WireException)
        {
            reason = ex.Message;
        }

        _lostReason = reason;
        foreach (var call in _slots)
        {
            ulong id = call.ArmedId;
            if (id != 0) Complete(call, id, Lost(reason, call.Function, pending: true));
        }
    }

    // With calls in flight on a hot lease, spin briefly for the answer before blocking in the kernel:
    // a blocked thread's wake-up is most of a loopback round trip. Always true (it only delays the read).
    private bool SpinForAnswer()
    {
        if (_spinTicks == 0 || InFlight == 0) return true;
        long until = Stopwatch.GetTimestamp() + _spinTicks;
        while (!_socket.HasData && Stopwatch.GetTimestamp() < until) Thread.SpinWait(20);
        return true;
    }

    private ExecutorLostException Lost(string reason, string? function = null, bool pending = false) =>
        new(_leaseId, $"The executor of function lease {_leaseId} is gone ({reason}){(pending ? $" with '{function}' pending" : "")}: it crashed, was killed (e.g. a stack overflow or Environment.FailFast in a function), or its lease ended. Lease a new executor.");

    private static RemoteMemException ToException(string function, ErrorCode code, string message)
    {
        switch (code)
        {
            case ErrorCode.FunctionFailed:
                int colon = message.IndexOf(": ", StringComparison.Ordinal);
                return colon > 0
                    ? new FunctionFailedException(function, message[..colon], message[(colon + 2)..])
                    : new FunctionFailedException(function, "Exception", message);
            case ErrorCode.DeadlineExceeded:
                return new FunctionTimeoutException(function, message);
            default:
                return new RemoteMemException(code, message);
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        if (Thread.CurrentThread != _receiver) _receiver.Join(TimeSpan.FromSeconds(2));
    }
}
