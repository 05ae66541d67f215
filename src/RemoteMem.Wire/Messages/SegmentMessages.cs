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
/// Manager to donor: copy segment <see cref="SegmentId"/> into each of <see cref="Targets"/> (segments
/// the manager allocated for the same lease on other donors): one target when a drain moves the
/// segment, several when a lost replica is rebuilt (the segment moves and gains copies at once, so
/// every holder must renew and learn the new copies). From the moment this arrives the segment refuses
/// writes (<see cref="ErrorCode.SegmentMoving"/>) and still serves reads. The answer comes when every
/// copy is complete; the manager then frees the segment. <see cref="BytesPerSecond"/> caps the copy's
/// rate (a rebuild, which must not crowd out applications); 0 copies as fast as it can (a drain, which
/// races its grace time).
/// </summary>
public sealed record SegmentMigrate(ulong SegmentId, IReadOnlyList<SegmentMigrate.Target> Targets, ulong BytesPerSecond = 0)
{
    /// <summary>Most copies one request may ask for.</summary>
    public const int MaxTargets = 4;

    public sealed record Target(string Endpoint, Capability Capability);

    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(SegmentId);
        w.WriteByte((byte)Targets.Count);
        Span<byte> capability = stackalloc byte[Capability.Size];
        foreach (var target in Targets)
        {
            w.WriteString(target.Endpoint);
            target.Capability.Write(capability);
            w.WriteBytes(capability);
        }

        w.WriteUInt64(BytesPerSecond);
    });

    public static SegmentMigrate Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        ulong id = r.ReadUInt64();
        int count = r.ReadByte();
        if (count is 0 or > MaxTargets)
            throw new WireException(ErrorCode.MalformedFrame, $"Malformed payload: segment migration to {count} targets.");
        var targets = new Target[count];
        for (int i = 0; i < count; i++)
        {
            var endpoint = r.ReadString();
            targets[i] = new Target(endpoint, Capability.Read(r.ReadBytes(Capability.Size)));
        }

        ulong rate = r.ReadUInt64();
        r.EnsureEnd();
        return new SegmentMigrate(id, targets, rate);
    }
}

/// <summary>
/// Manager to donor during a drain with no donor to move to: write segment <see cref="SegmentId"/> to
/// the file <see cref="Path"/> (in the manager's spill folder, which every node sees). Writes are
/// refused from arrival (<see cref="ErrorCode.SegmentMoving"/>); the answer comes when the file is
/// complete and flushed; the manager then points the lease at the file and frees the segment.
/// </summary>
public sealed record SegmentSpill(ulong SegmentId, string Path)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(SegmentId);
        w.WriteString(Path);
    });

    public static SegmentSpill Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new SegmentSpill(r.ReadUInt64(), r.ReadString());
        r.EnsureEnd();
        return m;
    }
}
