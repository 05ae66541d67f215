using RemoteMem.Transport;
using RemoteMem.Wire;

namespace RemoteMem.Services.Manager.Internal;

/// <summary>One segment of a lease as the manager placed it; <see cref="Group"/> is its replica group (replicas hold the same bytes).</summary>
internal sealed record PlacedSegment(ulong DonorId, string Endpoint, ulong SegmentId, ulong PoolOffset, ulong Length, ushort Group)
{
    /// <summary>Set (under the manager's lock) once the segment has been given back, so it is never freed twice.</summary>
    public bool Freed { get; set; }
}

/// <summary>One process's hold on a lease: its rights, its own expiry, and where to tell it the lease is lost.</summary>
internal sealed class Holder
{
    public required ulong Id { get; init; }
    public required Rights Rights { get; init; }
    public required TimeSpan Ttl { get; init; }
    public long ExpiresUnixMs { get; set; }
    public FrameConnection? Connection { get; set; }
}

/// <summary>
/// The manager's view of one lease. Guarded by the manager's lock. A lease lives while any holder
/// renews it: the creator is the first holder; each open by name adds one; the last release or expiry frees it.
/// </summary>
internal sealed class LeaseRecord
{
    public required ulong Id { get; init; }
    public required ulong Bytes { get; init; }
    public required uint StripeSize { get; init; }
    /// <summary>
    /// Where each segment lives, replicas included. Guarded by the manager's lock: an entry is replaced
    /// when a drain moves it, and the array is replaced without a dead donor's replicas.
    /// </summary>
    public required PlacedSegment[] Segments { get; set; }

    /// <summary>Copies of each stripe group the lease was granted with.</summary>
    public int Replicas { get; init; } = 1;

    /// <summary>Replica groups (stripe groups): stripe s lives in group s % Groups.</summary>
    public int Groups { get; init; } = 1;

    /// <summary>Fewer copies than asked for in some group (a donor died or left), until a rebuild restores them.</summary>
    public bool IsDegraded => LostReason is null && Segments.Length < Groups * Replicas;

    /// <summary>The client allowed a drain with nowhere to go to spill the data to files.</summary>
    public bool AllowSpill { get; init; }

    /// <summary>A rebuild is copying this lease's data to new replicas now.</summary>
    public bool Rebuilding { get; set; }
    public Dictionary<ulong, Holder> Holders { get; } = [];
    public string? LostReason { get; set; }
    public string? Name { get; set; }
    public byte[] Metadata { get; set; } = [];

    /// <summary>
    /// The latest expiry of any capability ever signed for this lease. One-sided (fabric) access cannot be
    /// revoked at the donor, so memory freed on a fabric donor is not reused before this moment.
    /// </summary>
    public long CapabilitiesValidUntilUnixMs { get; set; }

    public Holder AddHolder(Rights rights, TimeSpan ttl, long nowUnixMs, FrameConnection? connection)
    {
        var holder = new Holder { Id = NewHolderId(), Rights = rights, Ttl = ttl, ExpiresUnixMs = nowUnixMs + (long)ttl.TotalMilliseconds, Connection = connection };
        Holders[holder.Id] = holder;
        return holder;
    }

    public long ExpiresUnixMs => Holders.Count == 0 ? 0 : Holders.Values.Max(h => h.ExpiresUnixMs);

    /// <summary>
    /// Holder ids are random 64-bit values, not a counter: every process of a cluster shares one secret,
    /// so a holder id is what proves a renew or release comes from that holder (a bearer token), and a
    /// guessable one would let any client release another's lease.
    /// </summary>
    private ulong NewHolderId()
    {
        Span<byte> bytes = stackalloc byte[8];
        while (true)
        {
            System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
            ulong id = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            if (id != 0 && !Holders.ContainsKey(id)) return id;
        }
    }
}
