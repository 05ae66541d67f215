using System.Net;
using System.Net.Sockets;

namespace RemoteMem.Tests.Infrastructure;

/// <summary>A listening socket on 127.0.0.1 at a free port, for tests that play the server by hand.</summary>
public sealed class LoopbackListener : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public LoopbackListener()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.Listen(4);
        Endpoint = $"127.0.0.1:{((IPEndPoint)_socket.LocalEndPoint!).Port}";
    }

    /// <summary>host:port to connect to.</summary>
    public string Endpoint { get; }

    /// <summary>Blocks until the next connection arrives.</summary>
    public Socket Accept() => _socket.Accept();

    public void Dispose() => _socket.Dispose();
}
