using System.Net;
using System.Net.Sockets;

namespace RemoteMem.Perf.Suite;

/// <summary>
/// A raw socket round trip on loopback, kept open so it can be timed next to another operation: each
/// call sends a 16-byte request and waits for the fixed answer a server task sends back (NoDelay).
/// </summary>
internal sealed class PingPong : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Socket _client;
    private readonly Task _server;
    private readonly byte[] _ask = new byte[16];
    private readonly byte[] _reply;

    private PingPong(Socket listener, Socket client, Task server, int answerSize) =>
        (_listener, _client, _server, _reply) = (listener, client, server, new byte[answerSize]);

    public static async Task<PingPong> OpenAsync(int answerSize)
    {
        var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var server = Task.Run(() => ServeAsync(listener, answerSize));
        var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(listener.LocalEndPoint!);
        return new PingPong(listener, client, server, answerSize);
    }

    /// <summary>One request and its whole answer.</summary>
    public async ValueTask RoundTripAsync()
    {
        await _client.SendAsync(_ask, SocketFlags.None);
        int got = 0;
        while (got < _reply.Length) got += await _client.ReceiveAsync(_reply.AsMemory(got), SocketFlags.None);
    }

    private static async Task ServeAsync(Socket listener, int answerSize)
    {
        using var socket = await listener.AcceptAsync();
        socket.NoDelay = true;
        var request = new byte[16];
        var answer = new byte[answerSize];
        while (true)
        {
            int got = 0;
            while (got < request.Length)
            {
                int n = await socket.ReceiveAsync(request.AsMemory(got), SocketFlags.None);
                if (n == 0) return;
                got += n;
            }

            await socket.SendAsync(answer, SocketFlags.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _client.Shutdown(SocketShutdown.Both);
        await _server;
        _client.Dispose();
        _listener.Dispose();
    }
}
