using System.Buffers.Binary;

namespace RemoteMem.Wire;

/// <summary>
/// The manager's signed grant of an executor lease: which donor runs it, with how many cores, GPUs
/// and how much memory, until when. The client hands it to the donor to start the executor; the donor
/// verifies the MAC (so a client cannot raise its own cores) and derives the lease's connection key
/// from it (<see cref="CapabilityAuthority.ExecutorKey"/>). 76 bytes on the wire.
/// </summary>
public readonly record struct ExecutorTicket(
    ulong LeaseId,
    ulong DonorId,
    ushort Cores,
    ushort Gpus,
    ulong MemoryLimitBytes,
    long ExpiresUnixMs)
{
    /// <summary>Bytes covered by the MAC.</summary>
    public const int SignedSize = 8 + 8 + 2 + 2 + 8 + 8;

    public const int Size = SignedSize + Capability.MacSize;

    public void WriteSigned(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, LeaseId);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], DonorId);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[16..], Cores);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[18..], Gpus);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[20..], MemoryLimitBytes);
        BinaryPrimitives.WriteInt64LittleEndian(destination[28..], ExpiresUnixMs);
    }

    public static ExecutorTicket ReadSigned(ReadOnlySpan<byte> source)
    {
        if (source.Length < SignedSize) throw new WireException(ErrorCode.MalformedFrame, "Malformed payload: truncated executor ticket.");
        return new ExecutorTicket(
            BinaryPrimitives.ReadUInt64LittleEndian(source),
            BinaryPrimitives.ReadUInt64LittleEndian(source[8..]),
            BinaryPrimitives.ReadUInt16LittleEndian(source[16..]),
            BinaryPrimitives.ReadUInt16LittleEndian(source[18..]),
            BinaryPrimitives.ReadUInt64LittleEndian(source[20..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[28..]));
    }
}
