using System.Net.Sockets;
using RemoteMem.Transport.Internal;
using RemoteMem.Wire;

namespace RemoteMem.Transport;

/// <summary>
/// A connection read and written with blocking calls on threads that own it: the executor's workers
/// (which spin on <see cref="HasData"/> while hot and block in <see cref="ReadFrame"/> while warm) and
/// the client's receive threads. Frames are read into one reusable buffer and written with one send
/// under a lock, so a round trip allocates nothing. The handshake is the same as <see cref="FrameServer"/>'s.
/// </summary>
public sealed class FrameSocket : IDisposable, IFrameChannel
{
    private readonly Socket _socket;
    private readonly object _sendLock = new();
    private readonly ReceiveBuffer _receive = new(Math.Max(64 << 10, WireLimits.MinMaxFrameSize));
    private byte[] _send = new byte[64 << 10];
    private int _disposed;

    private FrameSocket(Socket socket, int maxFrameSize)
    {
        _socket = socket;
        _socket.NoDelay = true;
        MaxFrameSize = maxFrameSize;
    }

    /// <summary>The largest frame both sides accept (agreed in the handshake).</summary>
    public int MaxFrameSize { get; private set; }

    public byte Version { get; private set; } = WireLimits.MinimumVersion;

    /// <summary>The role the peer authenticated as (server side).</summary>
    public PeerRole PeerRole { get; private set; }

    /// <summary>True when a frame (or part of one) is waiting: buffered here or in the kernel. Cheap enough to spin on.</summary>
    public bool HasData => _receive.Count > 0 || _socket.Available > 0;

    /// <summary>Connects and authenticates as <paramref name="role"/> with <paramref name="secret"/>.</summary>
    public static async Task<FrameSocket> ConnectAsync(string endpoint, ClusterSecret secret, PeerRole role, TransportOptions options, CancellationToken cancellationToken = default)
    {
        options.Validate();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        var connection = new FrameSocket(socket, options.MaxFrameSize);
        try
        {
            var address = await Endpoints.ResolveAsync(endpoint, timeout.Token).ConfigureAwait(false);
            // A synchronous connect keeps the socket in blocking mode (after an async operation .NET
            // emulates blocking calls, allocating an event and an operation per receive), and the
            // handshake's reads block too: both run on a thread of their own, not the pool's. Blocked
            // pool threads would starve the pool (a few threads on a small node): two connections
            // made at once then waited ~0.5 s for the pool to grow, long enough to miss a lease renewal.
            Handshake.Agreement agreement;
            using (timeout.Token.Register(static s => ((Socket)s!).Dispose(), socket))
            {
                agreement = await Task.Factory.StartNew(() =>
                {
                    socket.Connect(address);
                    socket.ReceiveTimeout = (int)options.ConnectTimeout.TotalMilliseconds;
                    var agreed = Handshake.RunClientAsync(connection, secret, role, options.MaxFrameSize, endpoint, CancellationToken.None).GetAwaiter().GetResult();
                    socket.ReceiveTimeout = 0;
                    return agreed;
                }, timeout.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
            }

            connection.Agree(agreement);
            return connection;
        }
        catch (Exception ex)
        {
            connection.Dispose();
            if (ex is WireException) throw;
            if ((ex is OperationCanceledException || timeout.IsCancellationRequested) && !cancellationToken.IsCancellationRequested)
                throw new ConnectionFailedException(endpoint, $"no connection and handshake within {options.ConnectTimeout.TotalSeconds:0.#} s", ex);
            if (ex is SocketException or IOException or ObjectDisposedException)
                throw new ConnectionFailedException(endpoint, ex.Message, ex);
            throw;
        }
    }

    /// <summary>
    /// Runs the server side of the handshake on an accepted socket. Returns null (the socket closed)
    /// when the peer does not hold <paramref name="secret"/> or does not finish within <paramref name="timeout"/>.
    /// </summary>
    public static FrameSocket? Accept(Socket socket, ClusterSecret secret, int maxFrameSize, TimeSpan timeout)
    {
        var connection = new FrameSocket(socket, maxFrameSize);
        try
        {
            socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
            var agreement = Handshake.RunServerAsync(connection, secret, maxFrameSize, CancellationToken.None).GetAwaiter().GetResult();
            socket.ReceiveTimeout = 0;
            if (agreement is null)
            {
                connection.Dispose();
                return null;
            }

            connection.Agree(agreement.Value);
            return connection;
        }
        catch (Exception ex) when (ex is SocketException or IOException or WireException or ObjectDisposedException)
        {
            connection.Dispose();
            return null;
        }
    }

    private void Agree(Handshake.Agreement agreement)
    {
        MaxFrameSize = agreement.MaxFrameSize;
        Version = agreement.Version;
        PeerRole = agreement.PeerRole;
    }

    /// <summary>
    /// Blocks until a whole frame has arrived and returns it; <paramref name="payload"/> stays valid
    /// until the next call. False when the peer closed. A frame over the agreed size, or not a
    /// RemoteMem frame, throws <see cref="WireException"/>: the stream cannot be resynchronised.
    /// </summary>
    public bool ReadFrame(out FrameHeader header, out ReadOnlySpan<byte> payload) => ReadFrameWithin(MaxFrameSize, out header, out payload);

    private bool ReadFrameWithin(int maxFrameSize, out FrameHeader header, out ReadOnlySpan<byte> payload)
    {
        header = default;
        payload = default;
        if (!Fill(FrameHeader.Size)) return false;
        if (!FrameHeader.TryRead(_receive.Span, out header, out var error))
            throw new WireException(error, "Not a RemoteMem frame (bad magic); closing the connection.");
        if (header.PayloadLength > maxFrameSize - FrameHeader.Size)
            throw new WireException(ErrorCode.FrameTooLarge, $"Frame of {header.PayloadLength} bytes exceeds the agreed maximum of {maxFrameSize}; closing the connection.");
        int total = FrameHeader.Size + header.PayloadLength;
        if (!Fill(total)) return false;
        payload = _receive.Span.Slice(FrameHeader.Size, header.PayloadLength);
        _receive.Consume(total);
        return true;
    }

    // Makes at least `count` bytes available; false when the peer closed (or the socket was disposed).
    private bool Fill(int count)
    {
        try
        {
            return _receive.Fill(_socket, count, MaxFrameSize);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Sends one frame whose payload is <paramref name="prefix"/> then <paramref name="body"/>; thread-safe.</summary>
    public void Send(in FrameHeader header, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> body)
    {
        int total = FrameHeader.Size + prefix.Length + body.Length;
        if (total > MaxFrameSize)
            throw new ArgumentException($"A frame of {total} bytes exceeds the agreed maximum of {MaxFrameSize}.");
        Write(header with { Version = Version }, prefix, body);
    }

    // One frame in one send: the header (with its length) and the payload's parts, copied together.
    private void Write(FrameHeader header, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> body)
    {
        int total = FrameHeader.Size + prefix.Length + body.Length;
        lock (_sendLock)
        {
            if (_send.Length < total) _send = new byte[Math.Max(total, _send.Length * 2)];
            (header with { PayloadLength = prefix.Length + body.Length }).Write(_send);
            prefix.CopyTo(_send.AsSpan(FrameHeader.Size));
            body.CopyTo(_send.AsSpan(FrameHeader.Size + prefix.Length));
            SendAll(_send.AsSpan(0, total));
        }
    }

    /// <summary>Sends a frame already laid out in <paramref name="frame"/> (header space first, filled here); thread-safe.</summary>
    public void SendFramed(FrameHeader header, Span<byte> frame)
    {
        (header with { PayloadLength = frame.Length - FrameHeader.Size, Version = Version }).Write(frame);
        lock (_sendLock) SendAll(frame);
    }

    private void SendAll(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty) data = data[_socket.Send(data, SocketFlags.None)..];
    }

    /// <summary>
    /// Hands the connected, authenticated socket, with whatever has been received past the handshake, to
    /// a connection that frames it itself (the client's <see cref="Internal.DataConnection"/>, a donor's
    /// connection thread); this object keeps only the right to close it.
    /// </summary>
    internal (Socket Socket, ReceiveBuffer Received) Detach()
    {
        _send = [];
        return (_socket, _receive);
    }

    /// <summary>Closes the connection; a thread blocked in <see cref="ReadFrame"/> returns false.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        _socket.Dispose();
    }

    // The handshake's frames: read under the handshake's own size limit, written with the version it chose.
    ValueTask<(FrameHeader Header, byte[] Payload)?> IFrameChannel.ReadFrameAsync(int maxFrameSize, CancellationToken cancellationToken) =>
        ReadFrameWithin(maxFrameSize, out var header, out var payload)
            ? new((header, payload.ToArray()))
            : new(((FrameHeader, byte[])?)null);

    ValueTask IFrameChannel.WriteFrameAsync(FrameHeader header, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        Write(header, default, payload.Span);
        return ValueTask.CompletedTask;
    }
}
