using RemoteMem.Fabric.Internal.Native;

namespace RemoteMem.Fabric.Internal;

/// <summary>
/// The operations of one data path and their native contexts: a fixed set (MaxInFlight), a free list under a
/// lock, and a semaphore that makes callers wait for a free slot (backpressure) instead of allocating more.
/// Renting and returning allocate nothing unless a caller has to wait.
/// </summary>
internal sealed class OperationPool
{
    private readonly FabricOperation[] _operations;
    private readonly int[] _free;
    private readonly SemaphoreSlim _available;
    private int _freeCount;
    private volatile bool _retired;

    public OperationPool(int capacity)
    {
        Contexts = ContextBlockHandle.Allocate(capacity);
        _operations = new FabricOperation[capacity];
        _free = new int[capacity];
        for (int i = 0; i < capacity; i++)
        {
            _operations[i] = new FabricOperation(this, i, Contexts.ContextOf(i));
            _free[i] = capacity - 1 - i;
        }

        _freeCount = capacity;
        // No maximum: Retire releases extra counts to wake every waiter.
        _available = new SemaphoreSlim(capacity);
    }

    /// <summary>The native context memory; the endpoint handle keeps it alive until the endpoint is closed.</summary>
    public ContextBlockHandle Contexts { get; }

    public int Capacity => _operations.Length;

    public bool IsRetired => _retired;

    /// <summary>An operation of this path failed with a broken connection: the path needs a rebuild before the next post.</summary>
    public bool IsBroken => Volatile.Read(ref _broken);

    public void MarkBroken() => Volatile.Write(ref _broken, true);

    private bool _broken;

    public ReadOnlySpan<FabricOperation> Operations => _operations;

    public int QuarantinedCount
    {
        get
        {
            int count = 0;
            foreach (var operation in _operations)
                if (operation.IsQuarantined) count++;
            return count;
        }
    }

    /// <summary>Takes a free operation without waiting; false when none is free or the pool is retired.</summary>
    public bool TryRent(out FabricOperation operation)
    {
        if (!_retired && _available.Wait(0)) return TakeAfterWait(out operation);
        operation = null!;
        return false;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a free operation; false on timeout or retirement.</summary>
    public bool TryRent(TimeSpan timeout, out FabricOperation operation)
    {
        if (!_retired && _available.Wait(timeout)) return TakeAfterWait(out operation);
        operation = null!;
        return false;
    }

    /// <summary>Async form of <see cref="TryRent(TimeSpan, out FabricOperation)"/>; null on timeout or retirement.</summary>
    public async ValueTask<FabricOperation?> RentAsync(TimeSpan timeout)
    {
        if (_retired || !await _available.WaitAsync(timeout).ConfigureAwait(false)) return null;
        return TakeAfterWait(out var operation) ? operation : null;
    }

    /// <summary>Maps a completion's context back to its operation; false for NULL or foreign contexts.</summary>
    public bool TryFind(nint context, out FabricOperation operation)
    {
        int index = Contexts.IndexOf(context);
        operation = index >= 0 ? _operations[index] : null!;
        return index >= 0;
    }

    public void Return(FabricOperation operation)
    {
        lock (_free) _free[_freeCount++] = operation.Index;
        _available.Release();
    }

    /// <summary>No more rents; wakes every waiter so it can go to the next data path or fail.</summary>
    public void Retire()
    {
        _retired = true;
        _available.Release(_operations.Length);
    }

    private bool TakeAfterWait(out FabricOperation operation)
    {
        if (_retired)
        {
            _available.Release(); // pass the wake-up on to the next waiter
            operation = null!;
            return false;
        }

        lock (_free) operation = _operations[_free[--_freeCount]];
        return true;
    }
}
