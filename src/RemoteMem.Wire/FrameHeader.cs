using System.Buffers.Binary;

namespace RemoteMem.Wire;

/// <summary>
/// The fixed 20-byte header that starts every frame. All fields are little-endian.
/// See docs/protocol.md for the layout table.
/// </summary>
public readonly record struct FrameHeader(
    int PayloadLength,
    byte Version,
    Opcode Opcode,
    ulong RequestId,
    ErrorCode Status,
    FrameFlags Flags)
{
    /// <summary>Size of the encoded header in bytes.</summary>
    public const int Size = 20;

    /// <summary>"RM" as a little-endian 16-bit value; lets a peer reject non-RemoteMem traffic at once.</summary>
    public const ushort Magic = 0x4D52;

    public bool IsResponse => (Flags & FrameFlags.Response) != 0;

    public bool IsEvent => (Flags & FrameFlags.Event) != 0;

    public void Write(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException("Destination shorter than a frame header.", nameof(destination));
        BinaryPrimitives.WriteInt32LittleEndian(destination, PayloadLength);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Magic);
        destination[6] = Version;
        destination[7] = (byte)Opcode;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], RequestId);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[16..], (ushort)Status);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[18..], (ushort)Flags);
    }

    /// <summary>
    /// Decodes a header and checks what can be checked without context: the magic and that the
    /// payload length is not negative. The caller checks the length against the negotiated maximum.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out FrameHeader header, out ErrorCode error)
    {
        header = default;
        if (source.Length < Size)
        {
            error = ErrorCode.MalformedFrame;
            return false;
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(source[4..]) != Magic)
        {
            error = ErrorCode.MalformedFrame;
            return false;
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(source);
        if (length < 0)
        {
            error = ErrorCode.FrameTooLarge;
            return false;
        }

        header = new FrameHeader(
            length,
            source[6],
            (Opcode)source[7],
            BinaryPrimitives.ReadUInt64LittleEndian(source[8..]),
            (ErrorCode)BinaryPrimitives.ReadUInt16LittleEndian(source[16..]),
            (FrameFlags)BinaryPrimitives.ReadUInt16LittleEndian(source[18..]));
        error = ErrorCode.Ok;
        return true;
    }

    /// <summary>The response header that answers this request.</summary>
    public FrameHeader ToResponse(int payloadLength, ErrorCode status = ErrorCode.Ok) =>
        new(payloadLength, Version, Opcode, RequestId, status, FrameFlags.Response);
}

/// <summary>Frame flags (a 16-bit field; unknown bits are ignored by receivers).</summary>
[Flags]
public enum FrameFlags : ushort
{
    None = 0,

    /// <summary>This frame answers the request with the same request id.</summary>
    Response = 1,

    /// <summary>An unsolicited notification (request id 0), e.g. a lease-lost event.</summary>
    Event = 2,
}
