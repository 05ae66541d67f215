namespace RemoteMem.Wire.Messages;

/// <summary>
/// Client to manager: lease <paramref name="Bytes"/> bytes. Zero means "the manager's default" for
/// stripe count (as many donors as useful), stripe size and TTL.
/// </summary>
public sealed record LeaseRequest(ulong Bytes, ushort StripeCount, uint StripeSize, uint TtlMs, Rights Rights)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(Bytes);
        w.WriteUInt16(StripeCount);
        w.WriteUInt32(StripeSize);
        w.WriteUInt32(TtlMs);
        w.WriteUInt32((uint)Rights);
    });

    public static LeaseRequest Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new LeaseRequest(r.ReadUInt64(), r.ReadUInt16(), r.ReadUInt32(), r.ReadUInt32(), (Rights)r.ReadUInt32());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>One segment of a lease: where it lives and the capability to reach it.</summary>
public sealed record SegmentGrant(string DataEndpoint, Capability Capability);

/// <summary>
/// Manager's answer to a lease request or renewal. Byte <c>i</c> of the lease lives in stripe
/// <c>i / StripeSize</c>, which is stored on segment <c>stripe % Segments.Count</c> at offset
/// <c>(stripe / Segments.Count) * StripeSize + i % StripeSize</c>.
/// </summary>
public sealed record LeaseGrant(ulong LeaseId, ulong Bytes, uint StripeSize, long ExpiresUnixMs, IReadOnlyList<SegmentGrant> Segments)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(LeaseId);
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
        }
    });

    public static LeaseGrant Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        ulong id = r.ReadUInt64();
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
            segments[i] = new SegmentGrant(endpoint, Capability.Read(r.ReadBytes(Capability.Size)));
        }

        r.EnsureEnd();
        return new LeaseGrant(id, bytes, stripe, expires, segments);
    }
}

/// <summary>Client to manager: renew (answered with a fresh <see cref="LeaseGrant"/>) or release (empty answer) a lease.</summary>
public sealed record LeaseId(ulong Id)
{
    public byte[] Encode() => Message.ToArray(w => w.WriteUInt64(Id));

    public static LeaseId Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new LeaseId(r.ReadUInt64());
        r.EnsureEnd();
        return m;
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
