namespace RemoteMem.Wire.Messages;

/// <summary>Manager to donor: carve a segment of <paramref name="Length"/> bytes for a lease.</summary>
public sealed record SegmentAllocate(ulong LeaseId, ulong Length)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(LeaseId);
        w.WriteUInt64(Length);
    });

    public static SegmentAllocate Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new SegmentAllocate(r.ReadUInt64(), r.ReadUInt64());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>Donor's answer to <see cref="SegmentAllocate"/>.</summary>
public sealed record SegmentAllocateReply(ulong SegmentId, ulong PoolOffset)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(SegmentId);
        w.WriteUInt64(PoolOffset);
    });

    public static SegmentAllocateReply Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new SegmentAllocateReply(r.ReadUInt64(), r.ReadUInt64());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>Manager to donor: revoke a segment; its memory is zeroed before it is leased again. Idempotent.</summary>
public sealed record SegmentFree(ulong SegmentId)
{
    public byte[] Encode() => Message.ToArray(w => w.WriteUInt64(SegmentId));

    public static SegmentFree Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new SegmentFree(r.ReadUInt64());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>
/// Manager to donor during a drain: copy segment <see cref="SegmentId"/> into the segment that
/// <see cref="Target"/> opens on another donor. From the moment this arrives the segment refuses writes
/// (<see cref="ErrorCode.SegmentMoving"/>; clients retry against the new location once the manager has
/// switched the lease) and still serves reads. The answer comes when the copy is complete.
/// </summary>
public sealed record SegmentMigrate(ulong SegmentId, string TargetEndpoint, Capability Target)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(SegmentId);
        w.WriteString(TargetEndpoint);
        Span<byte> capability = stackalloc byte[Capability.Size];
        Target.Write(capability);
        w.WriteBytes(capability);
    });

    public static SegmentMigrate Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new SegmentMigrate(r.ReadUInt64(), r.ReadString(), Capability.Read(r.ReadBytes(Capability.Size)));
        r.EnsureEnd();
        return m;
    }
}
