using System.Net.Sockets;

namespace RemoteMem.Transport.Internal;

/// <summary>
/// The receive side of a blocking connection (<see cref="FrameSocket"/>, the client's
/// <see cref="DataConnection"/>, a donor's connection thread): the bytes received and not yet consumed,
/// in one array that is compacted when a frame would run past its end and grown (up to the largest
/// frame allowed) when a frame is larger than it. Each receive takes whatever the kernel has, so many
/// small frames cost one syscall.
/// </summary>
internal sealed class ReceiveBuffer(int initialSize)
{
    private byte[] _bytes = new byte[initialSize];
    private int _start, _end;

    /// <summary>Bytes received and not yet consumed.</summary>
    public int Count => _end - _start;

    public int Capacity => _bytes.Length;

    /// <summary>The unconsumed bytes (valid until the next receive).</summary>
    public ReadOnlySpan<byte> Span => _bytes.AsSpan(_start, _end - _start);

    /// <summary>The unconsumed bytes as a sequence over the array (valid until the next receive).</summary>
    public System.Buffers.ReadOnlySequence<byte> Sequence => new(_bytes, _start, _end - _start);

    public void Consume(int count) => _start += count;

    /// <summary>Moves up to <paramref name="destination"/>.Length buffered bytes into it and consumes them; returns how many.</summary>
    public int MoveTo(Span<byte> destination)
    {
        int n = Math.Min(Count, destination.Length);
        Span[..n].CopyTo(destination);
        Consume(n);
        return n;
    }

    /// <summary>Consumes the stream's next <paramref name="count"/> bytes, receiving as needed; false at the end of the stream.</summary>
    public bool Skip(Socket socket, int count)
    {
        while (count > 0)
        {
            if (Count == 0 && ReceiveFrom(socket) == 0) return false;
            int n = Math.Min(count, Count);
            Consume(n);
            count -= n;
        }

        return true;
    }

    /// <summary>Takes back the last <paramref name="count"/> bytes consumed (none received since).</summary>
    public void Unconsume(int count) => _start -= count;

    /// <summary>Makes room for <paramref name="count"/> bytes from the first unconsumed one, growing to at most <paramref name="max"/>.</summary>
    public void Reserve(int count, int max)
    {
        if (_start == _end) _start = _end = 0;
        if (_bytes.Length - _start >= count) return;
        var target = count > _bytes.Length ? new byte[Math.Max(count, Math.Min(2 * _bytes.Length, max))] : _bytes;
        Buffer.BlockCopy(_bytes, _start, target, 0, _end - _start);
        _bytes = target;
        _end -= _start;
        _start = 0;
    }

    /// <summary>One receive into the free space (there must be some); 0 at the end of the stream.</summary>
    public int ReceiveFrom(Socket socket)
    {
        if (_start == _end) _start = _end = 0;
        int received = socket.Receive(_bytes, _end, _bytes.Length - _end, SocketFlags.None);
        _end += received;
        return received;
    }

    /// <summary>Receives until <paramref name="count"/> bytes are buffered; false at the end of the stream.</summary>
    public bool Fill(Socket socket, int count, int max)
    {
        if (Count >= count) return true;
        Reserve(count, max);
        while (Count < count)
            if (ReceiveFrom(socket) == 0) return false;
        return true;
    }
}
