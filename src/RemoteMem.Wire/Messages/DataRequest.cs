using System.Buffers.Binary;

namespace RemoteMem.Wire.Messages;

/// <summary>One range of a vectored request: an offset inside the segment and a length.</summary>
public readonly record struct WireRange(ulong Offset, uint Length);

/// <summary>
/// Layout of the data requests (hot path, no allocation). Every data request starts with the
/// 84-byte capability.
/// <list type="bullet">
/// <item>Read: capability, u64 offset, u32 length. Answer: the bytes.</item>
/// <item>Write: capability, u64 offset, then the bytes to the end of the frame. Answer: empty.</item>
/// <item>ReadVector: capability, u16 count, count × (u64 offset, u32 length). Answer: the ranges' bytes, concatenated.</item>
/// <item>WriteVector: capability, u16 count, count × (u64 offset, u32 length), then the ranges' bytes concatenated. Answer: empty.</item>
/// </list>
/// </summary>
public static class DataRequest
{
    public const int RangeSize = 12;

    /// <summary>Largest prefix (capability + vector header) any data request has.</summary>
    public const int MaxPrefixSize = Capability.Size + 2 + WireLimits.MaxVectorRanges * RangeSize;

    public static int PrefixSize(Opcode opcode, int rangeCount) => opcode switch
    {
        Opcode.Read => Capability.Size + RangeSize,
        Opcode.Write => Capability.Size + 8,
        Opcode.ReadVector or Opcode.WriteVector => Capability.Size + 2 + rangeCount * RangeSize,
        _ => throw new ArgumentOutOfRangeException(nameof(opcode)),
    };

    /// <summary>Writes the prefix; returns its length.</summary>
    public static int WritePrefix(Span<byte> destination, Opcode opcode, in Capability capability, ReadOnlySpan<WireRange> ranges)
    {
        capability.Write(destination);
        var rest = destination[Capability.Size..];
        switch (opcode)
        {
            case Opcode.Read:
                BinaryPrimitives.WriteUInt64LittleEndian(rest, ranges[0].Offset);
                BinaryPrimitives.WriteUInt32LittleEndian(rest[8..], ranges[0].Length);
                return Capability.Size + RangeSize;
            case Opcode.Write:
                BinaryPrimitives.WriteUInt64LittleEndian(rest, ranges[0].Offset);
                return Capability.Size + 8;
            default:
                BinaryPrimitives.WriteUInt16LittleEndian(rest, (ushort)ranges.Length);
                rest = rest[2..];
                foreach (var range in ranges)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(rest, range.Offset);
                    BinaryPrimitives.WriteUInt32LittleEndian(rest[8..], range.Length);
                    rest = rest[RangeSize..];
                }

                return Capability.Size + 2 + ranges.Length * RangeSize;
        }
    }

    /// <summary>
    /// Parses a data request's prefix from the first bytes of its payload, bounds-checking every field
    /// against <paramref name="payloadLength"/>. Fills <paramref name="ranges"/>; returns the range
    /// count and the prefix length. Throws <see cref="WireException"/> on malformed input.
    /// </summary>
    public static int ReadPrefix(ReadOnlySpan<byte> prefix, int payloadLength, Opcode opcode, out Capability capability, Span<WireRange> ranges, out int prefixLength)
    {
        capability = Capability.Read(prefix);
        var rest = prefix[Capability.Size..];
        switch (opcode)
        {
            case Opcode.Read:
                Require(payloadLength == Capability.Size + RangeSize, "read request must be exactly capability + offset + length");
                ranges[0] = new WireRange(BinaryPrimitives.ReadUInt64LittleEndian(rest), BinaryPrimitives.ReadUInt32LittleEndian(rest[8..]));
                prefixLength = Capability.Size + RangeSize;
                return 1;
            case Opcode.Write:
                Require(payloadLength >= Capability.Size + 8, "write request shorter than its prefix");
                ranges[0] = new WireRange(BinaryPrimitives.ReadUInt64LittleEndian(rest), (uint)(payloadLength - Capability.Size - 8));
                prefixLength = Capability.Size + 8;
                return 1;
            case Opcode.ReadVector:
            case Opcode.WriteVector:
            {
                Require(payloadLength >= Capability.Size + 2, "vector request shorter than its prefix");
                int count = BinaryPrimitives.ReadUInt16LittleEndian(rest);
                Require(count >= 1 && count <= WireLimits.MaxVectorRanges && count <= ranges.Length, $"vector of {count} ranges (1..{WireLimits.MaxVectorRanges} allowed)");
                prefixLength = Capability.Size + 2 + count * RangeSize;
                Require(payloadLength >= prefixLength && prefix.Length >= prefixLength, "vector request shorter than its range list");
                rest = rest[2..];
                long total = 0;
                for (int i = 0; i < count; i++)
                {
                    ranges[i] = new WireRange(BinaryPrimitives.ReadUInt64LittleEndian(rest), BinaryPrimitives.ReadUInt32LittleEndian(rest[8..]));
                    total += ranges[i].Length;
                    rest = rest[RangeSize..];
                }

                if (opcode == Opcode.WriteVector)
                    Require(payloadLength - prefixLength == total, "write vector data length differs from the sum of its ranges");
                else
                    Require(payloadLength == prefixLength, "read vector request has trailing bytes");
                return count;
            }

            default:
                throw new WireException(ErrorCode.UnknownOpcode, $"Opcode {opcode} is not a data request.");
        }
    }

    private static void Require(bool condition, string what)
    {
        if (!condition) throw new WireException(ErrorCode.MalformedFrame, "Malformed data request: " + what + ".");
    }
}
