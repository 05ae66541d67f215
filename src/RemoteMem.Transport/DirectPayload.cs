using System.Net.Sockets;
using RemoteMem.Transport.Internal;

namespace RemoteMem.Transport;

/// <summary>
/// The payload of a large request whose header has arrived and whose bytes are still coming (see
/// <see cref="IFrameHandler.TryReceiveDirect"/>): the handler reads its prefix from
/// <see cref="Buffered"/>, then takes the rest straight from the socket into its own memory, so the
/// bytes cross one copy (the kernel's) instead of two. One per connection, reused frame after frame.
/// </summary>
public sealed class DirectPayload
{
    private readonly Socket _socket;
    private readonly ReceiveBuffer _received;
    private int _remaining;
    private bool _started;

    internal DirectPayload(Socket socket, ReceiveBuffer received)
    {
        _socket = socket;
        _received = received;
    }

    /// <summary>How long the sender may pause in the middle of a payload before the connection is closed.</summary>
    internal static TimeSpan StallTimeout { get; } = TimeSpan.FromSeconds(2);

    /// <summary>The payload's bytes that have arrived and are not consumed yet (at least its prefix).</summary>
    public ReadOnlySpan<byte> Buffered => _received.Span[..Math.Min(_received.Count, _remaining)];

    /// <summary>Payload bytes not consumed yet.</summary>
    public int Remaining => _remaining;

    /// <summary>True once the handler consumed something: it must then take the frame to its end.</summary>
    internal bool Started => _started;

    internal void Begin(int payloadLength)
    {
        _remaining = payloadLength;
        _started = false;
    }

    /// <summary>Consumes <paramref name="count"/> bytes of <see cref="Buffered"/> (the request's prefix, read there).</summary>
    public void Skip(int count)
    {
        if ((uint)count > (uint)Buffered.Length) throw new ArgumentOutOfRangeException(nameof(count));
        _started = true;
        _received.Consume(count);
        _remaining -= count;
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with the payload's next bytes: what is buffered, then straight
    /// from the socket. Throws <see cref="SocketException"/> when the peer closes or pauses for longer than
    /// the stall timeout (the connection then closes, and the handler's memory may hold part of the bytes).
    /// </summary>
    public void ReceiveInto(Span<byte> destination)
    {
        if (destination.Length > _remaining) throw new ArgumentOutOfRangeException(nameof(destination), "More bytes than the payload has left.");
        _started = true;
        _remaining -= destination.Length;
        destination = destination[_received.MoveTo(destination)..];
        if (destination.IsEmpty) return;
        // A peer that stops halfway would otherwise hold the handler (and what it guards) for good.
        _socket.ReceiveTimeout = (int)StallTimeout.TotalMilliseconds;
        try
        {
            while (!destination.IsEmpty)
            {
                int n = _socket.Receive(destination, SocketFlags.None);
                if (n == 0) throw new SocketException((int)SocketError.ConnectionReset);
                destination = destination[n..];
            }
        }
        finally
        {
            _socket.ReceiveTimeout = 0;
        }
    }

    /// <summary>Reads and drops what the handler left of the payload.</summary>
    internal void SkipRest()
    {
        int rest = _remaining;
        _remaining = 0;
        if (!_received.Skip(_socket, rest)) throw new SocketException((int)SocketError.ConnectionReset);
    }
}
