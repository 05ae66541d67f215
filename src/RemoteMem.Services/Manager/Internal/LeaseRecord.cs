using RemoteMem.Transport;

namespace RemoteMem.Services.Manager.Internal;

/// <summary>One segment of a lease as the manager placed it.</summary>
internal sealed record PlacedSegment(ulong DonorId, string Endpoint, ulong SegmentId, ulong PoolOffset, ulong Length)
{
    /// <summary>Set (under the manager's lock) once the segment has been given back, so it is never freed twice.</summary>
    public bool Freed { get; set; }
}

/// <summary>The manager's view of one lease. Guarded by the manager's lock.</summary>
internal sealed class LeaseRecord
{
    public required ulong Id { get; init; }
    public required ulong Bytes { get; init; }
    public required uint StripeSize { get; init; }
    public required Wire.Rights Rights { get; init; }
    public required TimeSpan Ttl { get; init; }
    public required IReadOnlyList<PlacedSegment> Segments { get; init; }
    public long ExpiresUnixMs { get; set; }
    public string? LostReason { get; set; }

    /// <summary>The client connection to tell when the lease is lost (the latest that renewed it).</summary>
    public FrameConnection? Owner { get; set; }
}
