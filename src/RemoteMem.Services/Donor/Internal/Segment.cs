namespace RemoteMem.Services.Donor.Internal;

/// <summary>
/// A live leased range of the pool. Requests enter and leave it; revocation waits for the ones
/// inside to leave before the memory is zeroed, so a write can never land in memory already handed
/// to the next tenant. A segment being moved to another donor is frozen: reads go on, writes are
/// refused, and freezing waits for the writes already inside, so the copy sees every acknowledged write.
/// </summary>
internal sealed class Segment(ulong id, ulong leaseId, long poolOffset, long length)
{
    private const int RevokedBit = 1 << 30;
    private int _users;
    private int _writers;
    private int _frozen;

    public ulong Id { get; } = id;
    public ulong LeaseId { get; } = leaseId;
    public long PoolOffset { get; } = poolOffset;
    public long Length { get; } = length;

    public bool IsFrozen => Volatile.Read(ref _frozen) != 0;

    public bool TryEnter()
    {
        int users = Interlocked.Increment(ref _users);
        if ((users & RevokedBit) == 0) return true;
        Interlocked.Decrement(ref _users);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _users);

    /// <summary>
    /// Admits a write unless the segment is frozen. Interlocked operations on both sides (here and in
    /// <see cref="Freeze"/>) are full fences: either the writer sees the freeze, or the freezer sees the writer.
    /// </summary>
    public bool TryEnterWrite()
    {
        Interlocked.Increment(ref _writers);
        if (Volatile.Read(ref _frozen) == 0) return true;
        Interlocked.Decrement(ref _writers);
        return false;
    }

    public void ExitWrite() => Interlocked.Decrement(ref _writers);

    /// <summary>Refuses new writes and waits until the writes inside have finished.</summary>
    public void Freeze()
    {
        Interlocked.Exchange(ref _frozen, 1);
        var spinner = new SpinWait();
        while (Volatile.Read(ref _writers) != 0) spinner.SpinOnce();
    }

    /// <summary>Accepts writes again (a move that failed: the segment stays here).</summary>
    public void Thaw() => Interlocked.Exchange(ref _frozen, 0);

    /// <summary>Stops new requests and waits until the ones inside have left.</summary>
    public void Revoke()
    {
        Interlocked.Add(ref _users, RevokedBit);
        var spinner = new SpinWait();
        while ((Volatile.Read(ref _users) & ~RevokedBit) != 0) spinner.SpinOnce();
    }
}
