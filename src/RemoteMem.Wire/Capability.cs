using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace RemoteMem.Wire;

/// <summary>What a capability lets its holder do to a segment.</summary>
[Flags]
public enum Rights : uint
{
    None = 0,
    Read = 1,
    Write = 2,
    ReadWrite = Read | Write,
}

/// <summary>
/// An unforgeable grant to access one segment: the manager signs (lease, donor, segment, pool range,
/// rights, expiry) with HMAC-SHA256 under the cluster's capability key; the donor verifies the MAC, the
/// expiry and that the segment is still live before touching memory. 84 bytes on the wire.
/// </summary>
[StructLayout(LayoutKind.Auto)]
public struct Capability : IEquatable<Capability>
{
    /// <summary>Encoded size in bytes.</summary>
    public const int Size = SignedSize + MacSize;

    /// <summary>Bytes covered by the MAC.</summary>
    public const int SignedSize = 6 * 8 + 4;

    public const int MacSize = 32;

    public ulong LeaseId;
    public ulong DonorId;
    public ulong SegmentId;

    /// <summary>Where the segment starts in the donor's pool.</summary>
    public ulong PoolOffset;

    /// <summary>Length of the segment; requests address [0, Length).</summary>
    public ulong Length;

    /// <summary>Expiry as Unix milliseconds (UTC).</summary>
    public long ExpiresUnixMs;

    public Rights Rights;

    /// <summary>HMAC-SHA256 over the first <see cref="SignedSize"/> encoded bytes.</summary>
    public MacBytes Mac;

    public readonly void Write(Span<byte> destination)
    {
        WriteSigned(destination);
        ((ReadOnlySpan<byte>)Mac).CopyTo(destination[SignedSize..Size]);
    }

    public readonly void WriteSigned(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, LeaseId);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], DonorId);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], SegmentId);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], PoolOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[32..], Length);
        BinaryPrimitives.WriteInt64LittleEndian(destination[40..], ExpiresUnixMs);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[48..], (uint)Rights);
    }

    public static Capability Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size) throw new WireException(ErrorCode.MalformedFrame, "Malformed payload: truncated capability.");
        var capability = new Capability
        {
            LeaseId = BinaryPrimitives.ReadUInt64LittleEndian(source),
            DonorId = BinaryPrimitives.ReadUInt64LittleEndian(source[8..]),
            SegmentId = BinaryPrimitives.ReadUInt64LittleEndian(source[16..]),
            PoolOffset = BinaryPrimitives.ReadUInt64LittleEndian(source[24..]),
            Length = BinaryPrimitives.ReadUInt64LittleEndian(source[32..]),
            ExpiresUnixMs = BinaryPrimitives.ReadInt64LittleEndian(source[40..]),
            Rights = (Rights)BinaryPrimitives.ReadUInt32LittleEndian(source[48..]),
        };
        source[SignedSize..Size].CopyTo(capability.Mac);
        return capability;
    }

    public readonly bool Equals(Capability other)
    {
        Span<byte> a = stackalloc byte[Size];
        Span<byte> b = stackalloc byte[Size];
        Write(a);
        other.Write(b);
        return a.SequenceEqual(b);
    }

    public override readonly bool Equals(object? obj) => obj is Capability other && Equals(other);

    public override readonly int GetHashCode() => HashCode.Combine(LeaseId, SegmentId, ExpiresUnixMs);

    public override readonly string ToString() =>
        $"lease {LeaseId} donor {DonorId} segment {SegmentId} [{PoolOffset}+{Length}) {Rights} until {DateTimeOffset.FromUnixTimeMilliseconds(ExpiresUnixMs):O}";
}

/// <summary>32 inline bytes for a MAC, so a capability is a plain value with no heap array.</summary>
[System.Runtime.CompilerServices.InlineArray(Capability.MacSize)]
public struct MacBytes
{
    private byte _element0;
}
