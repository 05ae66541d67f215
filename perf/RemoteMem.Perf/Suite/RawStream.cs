using System.Net;
using System.Net.Sockets;

namespace RemoteMem.Perf.Suite;

/// <summary>
/// One TCP connection on loopback, kept open so it can be timed next to another operation: each call
/// sends one block, the same block over and over (cache-hot) or, with a larger source, the consecutive
/// blocks of a region that large (as a donor serving a scan reads its pool); a task receives and
/// discards. Sent bytes stand for received ones: the socket buffers hold a few MiB, against GB a second.
/// </summary>
internal sealed class RawStream : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Socket _sender;
    private readonly Task _receiver;
    private readonly byte[] _source;
    private readonly int _blockSize;
    private int _offset;

    private RawStream(Socket listener, Socket sender, Task receiver, byte[] source, int blockSize) =>
        (_listener, _sender, _receiver, _source, _blockSize) = (listener, sender, receiver, source, blockSize);

    public static async Task<RawStream> OpenAsync(int blockSize, long sourceBytes = 0)
    {
        var source = new byte[Math.Max(blockSize, Math.Min(sourceBytes, 1L << 30))];
        Array.Fill(source, (byte)1); // committed before timing
        var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var receiver = Task.Run(() => DrainAsync(listener, blockSize));
        var sender = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await sender.ConnectAsync(listener.LocalEndPoint!);
        return new RawStream(listener, sender, receiver, source, blockSize);
    }

    /// <summary>Sends the next block; returns its size.</summary>
    public async ValueTask<long> SendAsync()
    {
        if (_offset + _blockSize > _source.Length) _offset = 0;
        await _sender.SendAsync(_source.AsMemory(_offset, _blockSize), SocketFlags.None);
        _offset += _blockSize;
        return _blockSize;
    }

    private static async Task DrainAsync(Socket listener, int blockSize)
    {
        using var socket = await listener.AcceptAsync();
        var buffer = new byte[Math.Max(blockSize, 64 << 10)];
        while (await socket.ReceiveAsync(buffer, SocketFlags.None) > 0)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _sender.Shutdown(SocketShutdown.Send);
        await _receiver;
        _sender.Dispose();
        _listener.Dispose();
    }
}
