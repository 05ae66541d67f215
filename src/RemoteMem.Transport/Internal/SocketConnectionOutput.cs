using System.Net.Sockets;
using RemoteMem.Wire;

namespace RemoteMem.Transport.Internal;

/// <summary>
/// Answers written to the socket by the thread that handles the connection: small frames gathered in
/// a buffer and sent together after each batch, large payloads (a read's bytes) sent from the
/// caller's memory directly, so the donor's pool reaches the kernel in one copy. A send that fails
/// marks the output broken and shuts the socket, which ends the connection's loop; later writes are
/// dropped (the peer is gone and sees the close).
/// </summary>
internal sealed class SocketConnectionOutput(Socket socket) : ConnectionOutput
{
    private const int DirectBytes = 16 << 10;
    private readonly byte[] _buffer = new byte[64 << 10];
    private int _used;
    private bool _broken;

    /// <summary>Held by the loop while it handles a batch (and flushes) and by <see cref="SendAsync"/>.</summary>
    public object Lock { get; } = new();

    public override void WriteHeader(in FrameHeader header)
    {
        if (_buffer.Length - _used < FrameHeader.Size) Flush();
        header.Write(_buffer.AsSpan(_used));
        _used += FrameHeader.Size;
    }

    public override void WriteData(ReadOnlySpan<byte> data)
    {
        if (data.Length <= _buffer.Length - _used && data.Length < DirectBytes)
        {
            data.CopyTo(_buffer.AsSpan(_used));
            _used += data.Length;
            return;
        }

        Flush();
        if (data.Length < DirectBytes)
        {
            data.CopyTo(_buffer);
            _used = data.Length;
        }
        else
        {
            SendAll(data);
        }
    }

    /// <summary>Sends what is buffered. Call with <see cref="Lock"/> held.</summary>
    public void Flush()
    {
        SendAll(_buffer.AsSpan(0, _used));
        _used = 0;
    }

    private void SendAll(ReadOnlySpan<byte> data)
    {
        if (_broken) return;
        try
        {
            while (!data.IsEmpty) data = data[socket.Send(data, SocketFlags.None)..];
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            _broken = true;
            try { socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        }
    }

    public override Task SendAsync(FrameHeader header, ReadOnlyMemory<byte> payload, CancellationToken closed)
    {
        lock (Lock)
        {
            if (closed.IsCancellationRequested) return Task.CompletedTask;
            WriteHeader(header with { PayloadLength = payload.Length });
            WriteData(payload.Span);
            Flush();
        }

        return Task.CompletedTask;
    }
}
