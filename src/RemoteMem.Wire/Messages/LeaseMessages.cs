namespace RemoteMem.Wire.Messages;

/// <summary>
/// Client to manager: lease <paramref name="Bytes"/> bytes. Zero means "the manager's default" for
/// stripe count (as many donors as useful), stripe size and TTL. <paramref name="Replicas"/> copies of
/// every stripe live on that many different donors (1 to 3; 0 means 1). <paramref name="Flags"/>:
/// <see cref="AllowSpill"/> lets a drain with no donor to move to write the data to the manager's spill
/// folder instead of losing it.
/// </summary>
public sealed record LeaseRequest(ulong Bytes, ushort StripeCount, uint StripeSize, uint TtlMs, Rights Rights, byte Replicas = 1, byte Flags = 0)
{
    public const byte AllowSpill = 1;

    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(Bytes);
        w.WriteUInt16(StripeCount);
        w.WriteUInt32(StripeSize);
        w.WriteUInt32(TtlMs);
        w.WriteUInt32((uint)Rights);
        w.WriteByte(Replicas);
        w.WriteByte(Flags);
    });

    public static LeaseRequest Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new LeaseRequest(r.ReadUInt64(), r.ReadUInt16(), r.ReadUInt32(), r.ReadUInt32(), (Rights)r.ReadUInt32(), r.ReadByte(), r.ReadByte());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>
/// One segment of a lease: where it lives, the capability to reach it, its donor's fabric address if
/// it has one, and the replica group it belongs to (replicas of one group hold the same bytes).
/// </summary>
public sealed record SegmentGrant(string DataEndpoint, Capability Capability, FabricAddress? Fabric = null, ushort Group = 0);

/// <summary>
/// Manager's answer to a lease request, renewal or open. <see cref="HolderId"/> names this holder of
/// the lease (a lease opened by name has several; it lives while any of them renews it). Byte <c>i</c>
/// of the lease lives in stripe <c>i / StripeSize</c>, which is stored in replica group
/// <c>stripe % G</c> (G groups, numbered 0..G-1 by <see cref="SegmentGrant.Group"/>) at offset
/// <c>(stripe / G) * StripeSize + i % StripeSize</c> of every segment of that group.
/// </summary>
public sealed record LeaseGrant(ulong LeaseId, ulong HolderId, ulong Bytes, uint StripeSize, long ExpiresUnixMs, IReadOnlyList<SegmentGrant> Segments)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(LeaseId);
        w.WriteUInt64(HolderId);
        w.WriteUInt64(Bytes);
        w.WriteUInt32(StripeSize);
        w.WriteInt64(ExpiresUnixMs);
        w.WriteUInt16((ushort)Segments.Count);
        Span<byte> capability = stackalloc byte[Capability.Size];
        foreach (var segment in Segments)
        {
            w.WriteString(segment.DataEndpoint);
            segment.Capability.Write(capability);
            w.WriteBytes(capability);
            FabricAddress.Write(w, segment.Fabric);
            w.WriteUInt16(segment.Group);
        }
    });

    public static LeaseGrant Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        ulong id = r.ReadUInt64();
        ulong holder = r.ReadUInt64();
        ulong bytes = r.ReadUInt64();
        uint stripe = r.ReadUInt32();
        long expires = r.ReadInt64();
        int count = r.ReadUInt16();
        if (count == 0 || count > WireLimits.MaxSegmentsPerLease)
            throw new WireException(ErrorCode.MalformedFrame, $"Malformed payload: lease grant with {count} segments.");
        if (stripe == 0)
            throw new WireException(ErrorCode.MalformedFrame, "Malformed payload: lease grant with stripe size 0.");
        var segments = new SegmentGrant[count];
        for (int i = 0; i < count; i++)
        {
            string endpoint = r.ReadString();
            var capability = Capability.Read(r.ReadBytes(Capability.Size));
            segments[i] = new SegmentGrant(endpoint, capability, FabricAddress.Read(ref r), r.ReadUInt16());
        }

        // Groups must be numbered 0..G-1 with none empty, or a client could not place the stripes.
        int groups = segments.Max(s => s.Group) + 1;
        if (segments.Select(s => s.Group).Distinct().Count() != groups)
            throw new WireException(ErrorCode.MalformedFrame, "Malformed payload: lease grant with an empty replica group.");

        r.EnsureEnd();
        return new LeaseGrant(id, holder, bytes, stripe, expires, segments);
    }
}

/// <summary>Client to manager: renew (answered with a fresh <see cref="LeaseGrant"/>) or release (empty answer) one holder's hold on a lease.</summary>
public sealed record LeaseHolder(ulong LeaseId, ulong HolderId)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(LeaseId);
        w.WriteUInt64(HolderId);
    });

    public static LeaseHolder Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new LeaseHolder(r.ReadUInt64(), r.ReadUInt64());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>
/// Client to manager: make a lease findable by <paramref name="Name"/>, with opaque metadata the
/// opener gets back (e.g. element type and length). Empty answer; NameExists if the name is taken.
/// </summary>
public sealed record LeasePublish(ulong LeaseId, ulong HolderId, string Name, byte[] Metadata)
{
    public const int MaxMetadataBytes = 1024;

    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(LeaseId);
        w.WriteUInt64(HolderId);
        w.WriteString(Name);
        w.WriteUInt16((ushort)Metadata.Length);
        w.WriteBytes(Metadata);
    });

    public static LeasePublish Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        ulong lease = r.ReadUInt64();
        ulong holder = r.ReadUInt64();
        string name = r.ReadString();
        int length = r.ReadUInt16();
        if (length > MaxMetadataBytes) throw new WireException(ErrorCode.MalformedFrame, $"Malformed payload: {length} bytes of metadata (at most {MaxMetadataBytes}).");
        var m = new LeasePublish(lease, holder, name, r.ReadBytes(length).ToArray());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>Client to manager: become a holder of the lease published as <paramref name="Name"/>, with <paramref name="Rights"/> (Read, or ReadWrite).</summary>
public sealed record LeaseOpen(string Name, Rights Rights, uint TtlMs)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteString(Name);
        w.WriteUInt32((uint)Rights);
        w.WriteUInt32(TtlMs);
    });

    public static LeaseOpen Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new LeaseOpen(r.ReadString(), (Rights)r.ReadUInt32(), r.ReadUInt32());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>Manager's answer to <see cref="LeaseOpen"/>: the publisher's metadata (u16 length + bytes), then the opener's grant.</summary>
public sealed record LeaseOpened(byte[] Metadata, LeaseGrant Grant)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt16((ushort)Metadata.Length);
        w.WriteBytes(Metadata);
        w.WriteBytes(Grant.Encode());
    });

    public static LeaseOpened Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        int length = r.ReadUInt16();
        if (length > LeasePublish.MaxMetadataBytes) throw new WireException(ErrorCode.MalformedFrame, $"Malformed payload: {length} bytes of metadata.");
        var metadata = r.ReadBytes(length).ToArray();
        return new LeaseOpened(metadata, LeaseGrant.Decode(r.ReadBytes(r.Remaining)));
    }
}

/// <summary>Manager to client, unsolicited (Event flag): a lease's data is gone (a donor died or left).</summary>
public sealed record LeaseLostEvent(ulong LeaseId, string Reason)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(LeaseId);
        w.WriteString(Reason);
    });

    public static LeaseLostEvent Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new LeaseLostEvent(r.ReadUInt64(), r.ReadString());
        r.EnsureEnd();
        return m;
    }
}
