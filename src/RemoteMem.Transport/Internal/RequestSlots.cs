using Microsoft.Extensions.Logging;

namespace RemoteMem.Transport.Internal;

/// <summary>
/// The request slots of one client connection, allocated once and reused: at most
/// <c>MaxInFlight</c> requests are in flight, a further caller waits for a slot (backpressure), and a
/// slot's index is the low half of its request id, so an answer finds its slot without a lookup.
/// Nothing here needs disposing (the semaphore never makes its wait handle): a call still unwinding
/// after its connection was disposed releases its slot like any other.
/// </summary>
internal sealed class RequestSlots
{
    private readonly PendingRequest[] _slots;
    private readonly Stack<int> _free;
    private readonly SemaphoreSlim _available;

    public RequestSlots(int count)
    {
        _slots = new PendingRequest[count];
        _free = new Stack<int>(count);
        for (int i = count - 1; i >= 0; i--)
        {
            _slots[i] = new PendingRequest(i);
            _free.Push(i);
        }

        _available = new SemaphoreSlim(count, count);
    }

    /// <summary>Waits until a slot is free; then <see cref="Take"/> one.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => _available.WaitAsync(cancellationToken);

    /// <summary>Blocking <see cref="WaitAsync"/>; false when none became free in time.</summary>
    public bool Wait(TimeSpan timeout) => _available.Wait(timeout);

    public PendingRequest Take()
    {
        lock (_free) return _slots[_free.Pop()];
    }

    public void Release(PendingRequest slot)
    {
        slot.Reset();
        lock (_free) _free.Push(slot.Index);
        _available.Release();
    }

    /// <summary>The slot a request id names, if it is armed with that id (a stale or forged id finds none).</summary>
    public PendingRequest? Find(ulong requestId)
    {
        int index = (int)(uint)requestId;
        return index < _slots.Length && _slots[index].RequestId == requestId ? _slots[index] : null;
    }

    /// <summary>
    /// When a request is still unanswered (or unsent) past its deadline: logs it and returns the error
    /// that must close the connection (the answer may still arrive and would land in memory the caller
    /// has reused, so the connection goes, and with it every request on it). Else null.
    /// </summary>
    public ConnectionFailedException? CheckDeadlines(string endpoint, TimeSpan timeout, ILogger logger)
    {
        long now = Environment.TickCount64;
        foreach (var slot in _slots)
        {
            int state = slot.State;
            if ((state != PendingRequest.Pending && state != PendingRequest.Sending) || now <= slot.DeadlineTicks) continue;
            Log.RequestTimedOut(logger, endpoint, slot.Opcode, timeout.TotalSeconds);
            return new ConnectionFailedException(endpoint, $"{slot.Opcode} request not answered within {timeout.TotalSeconds:0.#} s");
        }

        return null;
    }

    /// <summary>Fails every pending request (the connection is gone); slots being delivered are left to their deliverer.</summary>
    public void FailAll(Exception reason)
    {
        foreach (var slot in _slots) slot.TryFail(reason);
    }
}
