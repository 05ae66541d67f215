using System.Buffers;
using RemoteMem.Wire;

namespace RemoteMem.Executor.Internal;

/// <summary>
/// A function's output writer that keeps room for the frame header in front, so the answer goes out
/// in one send without a copy. One per worker, reset per invocation; it grows up to the frame limit.
/// </summary>
internal sealed class ResponseBuffer(int maxFrameSize) : IBufferWriter<byte>
{
    private byte[] _buffer = new byte[64 << 10];
    private int _written = FrameHeader.Size;

    public int PayloadLength => _written - FrameHeader.Size;

    /// <summary>Header space plus the payload written so far.</summary>
    public Span<byte> Frame => _buffer.AsSpan(0, _written);

    public void Reset() => _written = FrameHeader.Size;

    public void Advance(int count)
    {
        if (count < 0 || _written + count > _buffer.Length) throw new ArgumentOutOfRangeException(nameof(count));
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        int needed = _written + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length) return;
        if (needed > maxFrameSize)
            throw new InvalidOperationException($"The function's output passed {maxFrameSize - FrameHeader.Size} bytes, the most one answer can carry; return less (or write it to remote memory).");
        Array.Resize(ref _buffer, Math.Min(maxFrameSize, Math.Max(needed, _buffer.Length * 2)));
    }
}
