using System.Buffers.Binary;
using System.Text;

namespace RemoteMem.Wire;

/// <summary>
/// Reads little-endian fields from a payload. Every read checks the remaining length first and
/// throws <see cref="WireException"/> (<see cref="ErrorCode.MalformedFrame"/>) instead of reading past the end.
/// </summary>
public ref struct WireReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public WireReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Remaining => _buffer.Length - _position;

    public byte ReadByte() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    /// <summary>A u16 byte count followed by that many UTF-8 bytes, at most <see cref="WireLimits.MaxStringBytes"/>.</summary>
    public string ReadString()
    {
        int length = ReadUInt16();
        if (length > WireLimits.MaxStringBytes)
            throw Malformed($"string of {length} bytes exceeds the limit of {WireLimits.MaxStringBytes}");
        return Encoding.UTF8.GetString(Take(length));
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0) throw Malformed($"negative byte count {count}");
        return Take(count);
    }

    /// <summary>Rejects trailing bytes: a message must be exactly as long as its fields.</summary>
    public readonly void EnsureEnd()
    {
        if (Remaining != 0) throw Malformed($"{Remaining} unexpected trailing bytes");
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > Remaining)
            throw Malformed($"needed {count} more bytes at offset {_position}, only {Remaining} left");
        var span = _buffer.Slice(_position, count);
        _position += count;
        return span;
    }

    private static WireException Malformed(string detail) => new(ErrorCode.MalformedFrame, "Malformed payload: " + detail + ".");
}
