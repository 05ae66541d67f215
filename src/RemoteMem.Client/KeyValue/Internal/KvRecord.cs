using System.Buffers.Binary;
using System.IO.Hashing;

namespace RemoteMem.Client.KeyValue.Internal;

/// <summary>
/// A log record: a 16-byte header, the key, the value. Header: u16 key length, u16 reserved,
/// u32 value length, u32 CRC-32 of (lengths, key, value), u32 magic. A record that fails its magic
/// or checksum is reported as corrupt, never returned.
/// </summary>
internal static class KvRecord
{
    public const int HeaderSize = 16;
    private const uint Magic = 0x31564B52; // "RKV1"

    public static long Size(int keyLength, int valueLength) => HeaderSize + (long)keyLength + valueLength;

    public static void WriteHeader(Span<byte> header, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)key.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], 0);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], value.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Checksum(header, key, value));
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], Magic);
    }

    public static bool TryReadHeader(ReadOnlySpan<byte> header, out int keyLength, out int valueLength, out uint checksum)
    {
        keyLength = BinaryPrimitives.ReadUInt16LittleEndian(header);
        valueLength = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        checksum = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        return BinaryPrimitives.ReadUInt32LittleEndian(header[12..]) == Magic && valueLength >= 0;
    }

    public static uint Checksum(ReadOnlySpan<byte> header, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var crc = new Crc32();
        crc.Append(header[..8]);
        crc.Append(key);
        crc.Append(value);
        return crc.GetCurrentHashAsUInt32();
    }

    public static ulong Hash(ReadOnlySpan<byte> key) => XxHash64.HashToUInt64(key);
}
