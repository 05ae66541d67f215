namespace RemoteMem.Services.Donor.Internal;

/// <summary>
/// A live leased range of the pool. Requests enter and leave it; revocation waits for the ones
/// inside to leave before the memory is zeroed, so a write can never land in memory already handed
/// to the next tenant.
/// </summary>
internal sealed class Segment(ulong id, ulong leaseId, long poolOffset, long length)
{
    private const int RevokedBit = 1 << 30;
    private int _users;

    public ulong Id { get; } = id;
    public ulong LeaseId { get; } = leaseId;
    public long PoolOffset { get; } = poolOffset;
    public long Length { get; } = length;

    public bool TryEnter()
    {
        int users = Interlocked.Increment(ref _users);
        if ((users & RevokedBit) == 0) return true;
        Interlocked.Decrement(ref _users);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _users);

    /// <summary>Stops new requests and waits until the ones inside have left.</summary>
    public void Revoke()
    {
        Interlocked.Add(ref _users, RevokedBit);
        var spinner = new SpinWait();
        while ((Volatile.Read(ref _users) & ~RevokedBit) != 0) spinner.SpinOnce();
    }
}
