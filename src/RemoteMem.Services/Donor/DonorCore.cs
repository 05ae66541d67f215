using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RemoteMem.Services.Donor.Internal;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Services.Donor;

/// <summary>
/// The donor's memory, independent of any host or transport: the pool, the allocator, the live
/// segments and the access checks every request passes before it touches memory.
/// </summary>
public sealed class DonorCore : IDisposable
{
    private readonly NativeRegion _pool;
    private readonly BuddyAllocator _allocator;
    private readonly ConcurrentDictionary<ulong, Segment> _segments = new();
    private readonly CapabilityAuthority _authority;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _nextSegmentId;
    private long _leasedBytes;

    public DonorCore(long poolBytes, CapabilityAuthority authority, ILogger logger, TimeProvider? time = null)
    {
        _pool = new NativeRegion(poolBytes);
        _allocator = new BuddyAllocator(poolBytes);
        _authority = authority;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The id the manager gave this donor; capabilities for other donors are refused.</summary>
    public ulong DonorId { get; set; }

    public long OfferedBytes => _allocator.Capacity;

    public long LeasedBytes => Interlocked.Read(ref _leasedBytes);

    public long FreeBytes
    {
        get { lock (_allocator) return _allocator.FreeBytes; }
    }

    public int SegmentCount => _segments.Count;

    internal long NowUnixMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Carves a segment for a lease. Throws <see cref="WireException"/> (InsufficientCapacity) when nothing fits.</summary>
    public SegmentAllocateReply Allocate(ulong leaseId, ulong length)
    {
        if (length == 0 || length > (ulong)OfferedBytes)
            throw new WireException(ErrorCode.InsufficientCapacity, $"Cannot allocate {length} bytes from a pool of {OfferedBytes}.");
        long offset;
        lock (_allocator)
        {
            if (!_allocator.TryAllocate((long)length, out offset))
                throw new WireException(ErrorCode.InsufficientCapacity,
                    $"No free range of {ByteSize.Format((long)length)} ({ByteSize.Format(_allocator.FreeBytes)} free, largest block {ByteSize.Format(_allocator.LargestFree)}).");
        }

        ulong id = (ulong)Interlocked.Increment(ref _nextSegmentId);
        _segments[id] = new Segment(id, leaseId, offset, (long)length);
        Interlocked.Add(ref _leasedBytes, (long)length);
        DonorLog.SegmentAllocated(_logger, id, leaseId, offset, (long)length);
        return new SegmentAllocateReply(id, (ulong)offset);
    }

    /// <summary>
    /// Revokes a segment: waits for requests inside it, zeroes it (returning its pages to the OS) and
    /// gives the range back to the allocator. False when it was already gone.
    /// </summary>
    public bool Free(ulong segmentId)
    {
        if (!_segments.TryRemove(segmentId, out var segment)) return false;
        segment.Revoke();
        // Executors computing on the segment in place must be gone before its pages can go to another tenant.
        SegmentFreeing?.Invoke(segmentId);
        _pool.Discard(segment.PoolOffset, _allocator.RoundUp(segment.Length));
        lock (_allocator) _allocator.Free(segment.PoolOffset, segment.Length);
        Interlocked.Add(ref _leasedBytes, -segment.Length);
        DonorLog.SegmentFreed(_logger, segmentId, segment.LeaseId);
        return true;
    }

    /// <summary>Revokes every segment (used when the donor stops).</summary>
    public void FreeAll()
    {
        foreach (var id in _segments.Keys) Free(id);
    }

    /// <summary>
    /// Every check a data request must pass: MAC (unless <paramref name="macVerified"/>), expiry, donor,
    /// segment still live and unchanged, rights, and each range inside the segment. On success the
    /// caller holds the segment (it cannot be revoked) until it calls <c>Exit</c>.
    /// </summary>
    internal ErrorCode Authorize(in Capability capability, bool macVerified, Rights needed, ReadOnlySpan<WireRange> ranges, out Segment? segment, out string? reason)
    {
        segment = null;
        reason = null;
        long now = NowUnixMs;
        var code = macVerified
            ? (capability.ExpiresUnixMs <= now ? ErrorCode.CapabilityExpired : ErrorCode.Ok)
            : _authority.Verify(capability, now);
        if (code == ErrorCode.CapabilityInvalid) { reason = "capability signature does not verify"; return code; }
        if (code == ErrorCode.CapabilityExpired) { reason = $"capability of lease {capability.LeaseId} expired"; return code; }
        if (capability.DonorId != DonorId) { reason = $"capability is for donor {capability.DonorId}, this is donor {DonorId}"; return ErrorCode.CapabilityInvalid; }
        if ((capability.Rights & needed) != needed) { reason = $"capability grants {capability.Rights}, request needs {needed}"; return ErrorCode.RightsDenied; }
        foreach (var range in ranges)
        {
            if (range.Offset > capability.Length || range.Length > capability.Length - range.Offset)
            {
                reason = $"range [{range.Offset}, +{range.Length}) is outside the segment's {capability.Length} bytes";
                return ErrorCode.OutOfRange;
            }
        }

        if (!_segments.TryGetValue(capability.SegmentId, out var live) || live.LeaseId != capability.LeaseId
            || (ulong)live.PoolOffset != capability.PoolOffset || (ulong)live.Length != capability.Length || !live.TryEnter())
        {
            reason = $"segment {capability.SegmentId} of lease {capability.LeaseId} has been released or reclaimed";
            return ErrorCode.CapabilityRevoked;
        }

        if ((needed & Rights.Write) != 0 && !live.TryEnterWrite())
        {
            live.Exit();
            reason = $"segment {capability.SegmentId} of lease {capability.LeaseId} is moving to another donor; retry once the lease's grant names its new place";
            return ErrorCode.SegmentMoving;
        }

        segment = live;
        return ErrorCode.Ok;
    }

    /// <summary>The pool's first byte and length, for registering it with a fabric once.</summary>
    internal unsafe (nint Address, long Length) Pool => ((nint)_pool.Base, _pool.Length);

    /// <summary>Raised while a segment is freed, after its requests are done and before its memory is zeroed and reused.</summary>
    internal event Action<ulong>? SegmentFreeing;

    /// <summary>The memfd behind the pool that executors inherit for near-data work; -1 when the pool is private.</summary>
    internal int PoolFd => _pool.SharedFd;

    /// <summary>
    /// Checks a capability a client hands to its executor for near-data work (MAC, expiry, donor, the
    /// segment still live and unchanged, write rights: the executor maps the memory writable) and
    /// returns where the segment is in the pool.
    /// </summary>
    internal (long PoolOffset, long Length) AuthorizeNearData(in Capability capability)
    {
        var code = _authority.Verify(capability, NowUnixMs);
        if (code != ErrorCode.Ok)
            throw new WireException(code, $"Near-data capability of lease {capability.LeaseId}: {(code == ErrorCode.CapabilityExpired ? "expired" : "signature does not verify")}.");
        if (capability.DonorId != DonorId)
            throw new WireException(ErrorCode.CapabilityInvalid, $"Near-data segment {capability.SegmentId} is on donor {capability.DonorId}, not this donor {DonorId}: lease the executor where the data is.");
        if ((capability.Rights & Rights.Write) == 0)
            throw new WireException(ErrorCode.RightsDenied, $"Near-data work on segment {capability.SegmentId} needs a writable capability (an executor maps the segment read-write).");
        if (!_segments.TryGetValue(capability.SegmentId, out var live) || live.LeaseId != capability.LeaseId
            || (ulong)live.PoolOffset != capability.PoolOffset || (ulong)live.Length != capability.Length)
            throw new WireException(ErrorCode.CapabilityRevoked, $"Segment {capability.SegmentId} of lease {capability.LeaseId} has been released or moved.");
        return (live.PoolOffset, live.Length);
    }

    /// <summary>The live segment with this id, or null.</summary>
    internal Segment? Find(ulong segmentId) => _segments.TryGetValue(segmentId, out var segment) ? segment : null;

    /// <summary>The address of a segment's first byte in the pool (native memory: it never moves).</summary>
    internal unsafe nint Address(Segment segment) => (nint)(_pool.Base + segment.PoolOffset);

    internal Span<byte> Memory(Segment segment, in WireRange range) =>
        _pool.Slice(segment.PoolOffset + (long)range.Offset, (int)range.Length);

    public void Dispose()
    {
        FreeAll();
        _pool.Dispose();
    }
}
