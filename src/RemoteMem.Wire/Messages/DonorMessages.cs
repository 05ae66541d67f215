namespace RemoteMem.Wire.Messages;

/// <summary>
/// Donor to manager: join the cluster (or rejoin with a previous id after a reconnect). <see cref="Job"/>
/// names the batch job the donor runs in (e.g. a Slurm job id, "1234" or "1234.0" for a step), empty outside one.
/// </summary>
public sealed record DonorRegister(
    ulong PreviousDonorId,
    string Name,
    string Node,
    string DataEndpoint,
    ulong OfferedBytes,
    ushort Cores,
    ushort Gpus,
    string Job = "",
    FabricAddress? Fabric = null)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(PreviousDonorId);
        w.WriteString(Name);
        w.WriteString(Node);
        w.WriteString(DataEndpoint);
        w.WriteUInt64(OfferedBytes);
        w.WriteUInt16(Cores);
        w.WriteUInt16(Gpus);
        w.WriteString(Job);
        FabricAddress.Write(w, Fabric);
    });

    public static DonorRegister Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new DonorRegister(r.ReadUInt64(), r.ReadString(), r.ReadString(), r.ReadString(), r.ReadUInt64(), r.ReadUInt16(), r.ReadUInt16(), r.ReadString(), FabricAddress.Read(ref r));
        r.EnsureEnd();
        return m;
    }
}

/// <summary>Manager's answer to <see cref="DonorRegister"/>.</summary>
public sealed record DonorRegisterReply(ulong DonorId, int HeartbeatIntervalMs)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(DonorId);
        w.WriteInt32(HeartbeatIntervalMs);
    });

    public static DonorRegisterReply Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new DonorRegisterReply(r.ReadUInt64(), r.ReadInt32());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>Donor to manager, periodically: alive, with its current usage. UnknownDonor in reply means "register again".</summary>
public sealed record DonorHeartbeat(ulong DonorId, ulong LeasedBytes, ulong FreeBytes, ulong ResidentBytes, uint SegmentCount)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(DonorId);
        w.WriteUInt64(LeasedBytes);
        w.WriteUInt64(FreeBytes);
        w.WriteUInt64(ResidentBytes);
        w.WriteUInt32(SegmentCount);
    });

    public static DonorHeartbeat Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new DonorHeartbeat(r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt32());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>Donor to manager on a clean stop: leave the cluster now instead of waiting to be timed out.</summary>
public sealed record DonorDeregister(ulong DonorId, string Reason)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(DonorId);
        w.WriteString(Reason);
    });

    public static DonorDeregister Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new DonorDeregister(r.ReadUInt64(), r.ReadString());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>
/// Donor to manager when it must leave (SIGTERM, preemption): stop placing segments here and move the
/// ones here to other donors within <see cref="GraceMs"/>. Answered with <see cref="DonorDrainReply"/>
/// once every segment has moved or been declared lost.
/// </summary>
public sealed record DonorDrain(ulong DonorId, uint GraceMs)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(DonorId);
        w.WriteUInt32(GraceMs);
    });

    public static DonorDrain Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new DonorDrain(r.ReadUInt64(), r.ReadUInt32());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>Manager's answer to <see cref="DonorDrain"/>: segments moved, and segments whose leases were lost (no donor had room, or the grace ran out).</summary>
public sealed record DonorDrainReply(uint Moved, uint Lost)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt32(Moved);
        w.WriteUInt32(Lost);
    });

    public static DonorDrainReply Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new DonorDrainReply(r.ReadUInt32(), r.ReadUInt32());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>
/// Client (an operator) to manager: ask donor <see cref="DonorId"/> to drain and leave, as SIGTERM
/// would (`remotemem donor drain`). Answered once the donor has accepted; the drain runs on.
/// </summary>
public sealed record DrainDonor(ulong DonorId)
{
    public byte[] Encode() => Message.ToArray(w => w.WriteUInt64(DonorId));

    public static DrainDonor Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new DrainDonor(r.ReadUInt64());
        r.EnsureEnd();
        return m;
    }
}
