using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace RemoteMem.Wire;

/// <summary>Writes little-endian fields to a buffer writer; the counterpart of <see cref="WireReader"/>.</summary>
public readonly struct WireWriter(IBufferWriter<byte> output)
{
    public void WriteByte(byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(output.GetSpan(2), value);
        output.Advance(2);
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(output.GetSpan(4), value);
        output.Advance(4);
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(output.GetSpan(4), value);
        output.Advance(4);
    }

    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(output.GetSpan(8), value);
        output.Advance(8);
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(output.GetSpan(8), value);
        output.Advance(8);
    }

    public void WriteString(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        if (length > WireLimits.MaxStringBytes)
            throw new ArgumentException($"String of {length} bytes exceeds the wire limit of {WireLimits.MaxStringBytes}.", nameof(value));
        WriteUInt16((ushort)length);
        Encoding.UTF8.GetBytes(value, output.GetSpan(length));
        output.Advance(length);
    }

    public void WriteBytes(ReadOnlySpan<byte> value) => output.Write(value);
}
