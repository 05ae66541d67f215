namespace RemoteMem.Wire.Messages;

/// <summary>Client to manager: lease an executor with this many cores and GPUs (placement only; the client then starts it on the donor).</summary>
public sealed record ExecutorLeaseRequest(ushort Cores, ushort Gpus, ulong MemoryLimitBytes, uint DurationMs, ulong PreferDonorId)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt16(Cores);
        w.WriteUInt16(Gpus);
        w.WriteUInt64(MemoryLimitBytes);
        w.WriteUInt32(DurationMs);
        w.WriteUInt64(PreferDonorId);
    });

    public static ExecutorLeaseRequest Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new ExecutorLeaseRequest(r.ReadUInt16(), r.ReadUInt16(), r.ReadUInt64(), r.ReadUInt32(), r.ReadUInt64());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>Manager's answer to <see cref="ExecutorLeaseRequest"/>: where to start the executor, the signed ticket, and the connection key derived from it.</summary>
public sealed record ExecutorGrant(ulong LeaseId, ulong DonorId, string DonorEndpoint, byte[] Ticket, byte[] Key)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(LeaseId);
        w.WriteUInt64(DonorId);
        w.WriteString(DonorEndpoint);
        w.WriteBytes(Ticket);
        w.WriteBytes(Key);
    });

    public static ExecutorGrant Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new ExecutorGrant(r.ReadUInt64(), r.ReadUInt64(), r.ReadString(), r.ReadBytes(ExecutorTicket.Size).ToArray(), r.ReadBytes(32).ToArray());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>Donor to manager: an executor lease's process has ended (stopped, crashed, or its client left); its cores are free.</summary>
public sealed record ExecutorEnded(ulong DonorId, ulong LeaseId, string Reason)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(DonorId);
        w.WriteUInt64(LeaseId);
        w.WriteString(Reason);
    });

    public static ExecutorEnded Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new ExecutorEnded(r.ReadUInt64(), r.ReadUInt64(), r.ReadString());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>Client to donor: does the donor hold the package with this SHA-256? The answer is one byte, 1 or 0.</summary>
public sealed record PackageQuery(byte[] Hash)
{
    public const int HashSize = 32;

    public byte[] Encode() => Message.ToArray(w => w.WriteBytes(Hash));

    public static PackageQuery Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new PackageQuery(r.ReadBytes(HashSize).ToArray());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>
/// Client to donor: one chunk of a package, at <paramref name="Offset"/> of <paramref name="TotalLength"/>
/// bytes. Chunks come in order; the donor checks the hash and the archive when the last one arrives.
/// </summary>
public sealed record PackageUpload(byte[] Hash, ulong TotalLength, ulong Offset, ReadOnlyMemory<byte> Chunk)
{
    /// <summary>Bytes before the chunk.</summary>
    public const int HeaderSize = PackageQuery.HashSize + 16;

    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteBytes(Hash);
        w.WriteUInt64(TotalLength);
        w.WriteUInt64(Offset);
        w.WriteBytes(Chunk.Span);
    });

    public static PackageUpload Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var hash = r.ReadBytes(PackageQuery.HashSize).ToArray();
        ulong total = r.ReadUInt64();
        ulong offset = r.ReadUInt64();
        return new PackageUpload(hash, total, offset, r.ReadBytes(r.Remaining).ToArray());
    }
}

/// <summary>
/// A segment of the client's that an executor may compute on in place (near-data): the capability
/// proves the client holds it (the donor verifies it before handing the memory to the executor); the
/// stripe fields say which bytes of the allocation it holds (stripe s of the allocation lives on
/// segment s % <paramref name="Columns"/>, at (s / Columns) * StripeSize).
/// </summary>
public sealed record NearDataGrant(Capability Capability, uint Column, uint Columns, uint StripeSize, ulong AllocationLength)
{
    public void Write(WireWriter w)
    {
        Span<byte> capability = stackalloc byte[Capability.Size];
        Capability.Write(capability);
        w.WriteBytes(capability);
        w.WriteUInt32(Column);
        w.WriteUInt32(Columns);
        w.WriteUInt32(StripeSize);
        w.WriteUInt64(AllocationLength);
    }

    public static NearDataGrant Read(ref WireReader r) =>
        new(Capability.Read(r.ReadBytes(Capability.Size)), r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt64());
}

/// <summary>Client to donor: start the executor of a leased ticket with a package the donor holds.</summary>
public sealed record ExecutorStart(byte[] Ticket, byte[] PackageHash, int HotTimeoutMs, IReadOnlyList<NearDataGrant> NearData)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteBytes(Ticket);
        w.WriteBytes(PackageHash);
        w.WriteInt32(HotTimeoutMs);
        w.WriteUInt16((ushort)NearData.Count);
        foreach (var grant in NearData) grant.Write(w);
    });

    public static ExecutorStart Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var ticket = r.ReadBytes(ExecutorTicket.Size).ToArray();
        var hash = r.ReadBytes(PackageQuery.HashSize).ToArray();
        int hot = r.ReadInt32();
        int count = r.ReadUInt16();
        if (count > WireLimits.MaxSegmentsPerLease)
            throw new WireException(ErrorCode.InvalidArgument, $"{count} near-data segments exceed the limit of {WireLimits.MaxSegmentsPerLease}.");
        var grants = new NearDataGrant[count];
        for (int i = 0; i < count; i++) grants[i] = NearDataGrant.Read(ref r);
        r.EnsureEnd();
        return new ExecutorStart(ticket, hash, hot, grants);
    }
}

/// <summary>Donor's answer to <see cref="ExecutorStart"/>: where the executor listens, and how long its cold start took.</summary>
public sealed record ExecutorStarted(string Endpoint, uint SpawnMs, uint LoadMs)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteString(Endpoint);
        w.WriteUInt32(SpawnMs);
        w.WriteUInt32(LoadMs);
    });

    public static ExecutorStarted Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new ExecutorStarted(r.ReadString(), r.ReadUInt32(), r.ReadUInt32());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>Client to donor: end an executor lease now (the ticket proves it is the holder's).</summary>
public sealed record ExecutorStop(byte[] Ticket)
{
    public byte[] Encode() => Message.ToArray(w => w.WriteBytes(Ticket));

    public static ExecutorStop Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new ExecutorStop(r.ReadBytes(ExecutorTicket.Size).ToArray());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>Executor's answer to <see cref="Opcode.ExecutorStats"/>: what its workers have done.</summary>
public sealed record ExecutorStatistics(ulong HotInvocations, ulong WarmInvocations, ulong Failed, ulong DeadlinesExceeded, string Accelerator)
{
    public byte[] Encode() => Message.ToArray(w =>
    {
        w.WriteUInt64(HotInvocations);
        w.WriteUInt64(WarmInvocations);
        w.WriteUInt64(Failed);
        w.WriteUInt64(DeadlinesExceeded);
        w.WriteString(Accelerator);
    });

    public static ExecutorStatistics Decode(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var m = new ExecutorStatistics(r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadString());
        r.EnsureEnd();
        return m;
    }
}

/// <summary>
/// The fixed prefix of an <see cref="Opcode.Invoke"/> request: the function's id (from
/// <see cref="Opcode.FunctionResolve"/>) and the deadline in milliseconds from arrival; the input bytes follow.
/// </summary>
public static class InvokePrefix
{
    public const int Size = 8;
}
