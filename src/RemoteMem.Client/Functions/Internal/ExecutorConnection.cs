using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Client.Functions.Internal;

/// <summary>
/// One connection to an executor, served there by one worker. Requests are written with one send from
/// the caller's thread; a dedicated thread blocks in receive and completes callers by request id, so
/// many invocations are in flight and each answer finds its caller.
/// </summary>
internal sealed class ExecutorConnection : IDisposable
{
    private readonly FrameSocket _socket;
    private readonly ulong _leaseId;
    private readonly ConcurrentDictionary<ulong, PendingCall> _pending = new();
    private readonly Thread _receiver;
    private long _nextId;
    private volatile string? _lostReason;

    public sealed class PendingCall(string function, long deadlineTimestamp, bool inline)
    {
        public readonly TaskCompletionSource<byte[]> Completion = new(inline ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly string Function = function;
        public readonly long DeadlineTimestamp = deadlineTimestamp;
    }

    private readonly bool _inlineCompletions;
    private readonly long _spinTicks;

    public ExecutorConnection(FrameSocket socket, ulong leaseId, bool inlineCompletions, TimeSpan spin = default)
    {
        _spinTicks = (long)(spin.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        _socket = socket;
        _leaseId = leaseId;
        _inlineCompletions = inlineCompletions;
        _receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = $"executor-{leaseId}-receive" };
        _receiver.Start();
    }

    public int InFlight => _pending.Count;

    public int MaxPayload => _socket.MaxFrameSize - FrameHeader.Size - InvokePrefix.Size;

    public bool IsLost => _lostReason is not null;

    public Task<byte[]> SendAsync(Opcode opcode, string function, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> body, long deadlineTimestamp)
    {
        var call = new PendingCall(function, deadlineTimestamp, _inlineCompletions);
        if (_lostReason is { } lost) return Task.FromException<byte[]>(Lost(lost));
        ulong id = (ulong)Interlocked.Increment(ref _nextId);
        _pending[id] = call;
        try
        {
            _socket.Send(new FrameHeader(0, _socket.Version, opcode, id, ErrorCode.Ok, FrameFlags.None), prefix, body);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            if (_pending.TryRemove(id, out _)) call.Completion.TrySetException(Lost(ex.Message));
        }

        return call.Completion.Task;
    }

    /// <summary>Fails calls whose deadline (plus a grace for the answer to travel) has passed without an answer.</summary>
    public void ExpireOverdue(long now)
    {
        foreach (var (id, call) in _pending)
        {
            if (now < call.DeadlineTimestamp || !_pending.TryRemove(id, out _)) continue;
            call.Completion.TrySetException(new FunctionTimeoutException(call.Function,
                $"Function '{call.Function}' did not answer by its deadline; the executor's worker may still be running it, and later calls on that worker wait behind it."));
        }
    }

    private void ReceiveLoop()
    {
        string reason = "the executor closed the connection";
        try
        {
            while (SpinForAnswer() && _socket.ReadFrame(out var header, out var payload))
            {
                if (!_pending.TryRemove(header.RequestId, out var call)) continue; // already timed out here
                if (header.Status == ErrorCode.Ok) call.Completion.TrySetResult(payload.ToArray());
                else call.Completion.TrySetException(ToException(call.Function, header.Status, ErrorPayload.Decode(header.Status, payload)));
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException or WireException)
        {
            reason = ex.Message;
        }

        _lostReason = reason;
        foreach (var id in _pending.Keys)
            if (_pending.TryRemove(id, out var call)) call.Completion.TrySetException(Lost(reason, call.Function, pending: true));
    }

    // With calls in flight on a hot lease, spin briefly for the answer before blocking in the kernel:
    // a blocked thread's wake-up is most of a loopback round trip. Always true (it only delays the read).
    private bool SpinForAnswer()
    {
        if (_spinTicks == 0 || _pending.IsEmpty) return true;
        long until = System.Diagnostics.Stopwatch.GetTimestamp() + _spinTicks;
        while (!_socket.HasData && System.Diagnostics.Stopwatch.GetTimestamp() < until) Thread.SpinWait(20);
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
