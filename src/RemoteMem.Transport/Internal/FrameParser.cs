using System.Buffers;
using RemoteMem.Wire;

namespace RemoteMem.Transport.Internal;

/// <summary>Cuts whole frames out of a receive buffer, checking the header before trusting its length.</summary>
internal static class FrameParser
{
    public enum Result
    {
        NeedMoreData,
        Frame,
        /// <summary>The stream cannot be trusted any more (bad magic, length over the limit): close the connection.</summary>
        Fatal,
    }

    public static Result TryRead(ref ReadOnlySequence<byte> buffer, int maxFrameSize, out FrameHeader header, out ReadOnlySequence<byte> payload, out ErrorCode error)
    {
        payload = default;
        header = default;
        error = ErrorCode.Ok;
        if (buffer.Length < FrameHeader.Size) return Result.NeedMoreData;

        Span<byte> raw = stackalloc byte[FrameHeader.Size];
        buffer.Slice(0, FrameHeader.Size).CopyTo(raw);
        if (!FrameHeader.TryRead(raw, out header, out error)) return Result.Fatal;
        if (header.PayloadLength > maxFrameSize - FrameHeader.Size)
        {
            error = ErrorCode.FrameTooLarge;
            return Result.Fatal;
        }

        long total = FrameHeader.Size + (long)header.PayloadLength;
        if (buffer.Length < total) return Result.NeedMoreData;
        payload = buffer.Slice(FrameHeader.Size, header.PayloadLength);
        buffer = buffer.Slice(total);
        return Result.Frame;
    }
}
