using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RemoteMem.Transport.Internal;
using RemoteMem.Wire;

namespace RemoteMem.Transport;

/// <summary>
/// Accepts connections on one TCP endpoint, runs the handshake and feeds whole, validated frames to an
/// <see cref="IFrameHandler"/>. A bad frame costs its connection (or only its request, where the frame
/// boundary is still known), never the server.
/// <para>
/// Two ways to run a connection. By default (the manager: many peers, little traffic each) its
/// socket is a pair of pipes served by the thread pool. With <c>threadPerConnection</c> (the donor: a
/// few clients moving a lot of data) one thread owns the connection: it blocks in receive, handles
/// every whole frame that arrived, and sends the answers itself, large read payloads straight from the
/// pool's memory. That spares each request the pipes' thread hand-offs (a wake-up each) and a copy.
/// </para>
/// </summary>
public sealed class FrameServer : IAsyncDisposable
{
    // Requests with at least this much payload may go to IFrameHandler.TryReceiveDirect, once their prefix is in.
    private const int DirectPayloadBytes = 64 << 10;
    private const int DataRequestPrefixBytes = RemoteMem.Wire.Messages.DataRequest.MaxPrefixSize;

    private readonly IFrameHandler _handler;
    private readonly ClusterSecret _secret;
    private readonly TransportOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, (IServedConnection Connection, Task Loop)> _connections = new();
    private readonly bool _threadPerConnection;
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private long _nextConnectionId;

    /// <summary>A server for <paramref name="handler"/>; <c>threadPerConnection</c> gives each connection its own thread (see the class remarks).</summary>
    public FrameServer(IFrameHandler handler, ClusterSecret secret, TransportOptions options, ILogger? logger = null, bool threadPerConnection = false)
    {
        options.Validate();
        _threadPerConnection = threadPerConnection;
        _handler = handler;
        _secret = secret;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The bound endpoint (with the real port when 0 was asked for).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Binds and starts accepting. <paramref name="listen"/> is host:port; port 0 picks a free port.</summary>
    public IPEndPoint Start(string listen)
    {
        var endpoint = Endpoints.ParseListen(listen);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endpoint);
            socket.Listen(512);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new InvalidOperationException($"Cannot listen on {listen}: {ex.Message}. Choose another address or port (--listen).", ex);
        }

        _listener = socket;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync(socket);
        return LocalEndPoint;
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested) return;
                continue;
            }

            long id = Interlocked.Increment(ref _nextConnectionId);
            var remote = socket.RemoteEndPoint?.ToString();
            Log.ConnectionAccepted(_logger, id, remote);
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_threadPerConnection)
            {
                var threaded = new ThreadedConnection(socket);
                _connections[id] = (threaded, done.Task);
                new Thread(() => RunThreaded(id, threaded, remote, done)) { IsBackground = true, Name = $"remotemem connection {id}" }.Start();
                continue;
            }

            var pipe = new SocketPipe(socket, _options.MaxFrameSize);
            _connections[id] = (new PipedConnection(pipe), done.Task);
            _ = RunConnectionAsync(id, pipe, remote).ContinueWith(_ =>
            {
                _connections.TryRemove(id, out var _);
                done.TrySetResult();
            }, TaskScheduler.Default);
        }
    }

    private async Task RunConnectionAsync(long id, SocketPipe pipe, string? remote)
    {
        FrameConnection? connection = null;
        try
        {
            Handshake.Agreement? agreement;
            using (var handshakeTimeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                handshakeTimeout.CancelAfter(_options.ConnectTimeout * 2);
                try
                {
                    agreement = await Handshake.RunServerAsync(pipe, _secret, _options.MaxFrameSize, handshakeTimeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is WireException or OperationCanceledException or InvalidOperationException or IOException)
                {
                    Log.HandshakeFailed(_logger, id, remote, ex.Message);
                    return;
                }
            }

            if (agreement is null)
            {
                Log.HandshakeFailed(_logger, id, remote, "refused");
                return;
            }

            var output = new PipeConnectionOutput(pipe);
            connection = new FrameConnection(id, output, remote, agreement.Value);
            await ProcessAsync(connection, pipe, output).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
        {
            // The peer went away; nothing to answer.
        }
        finally
        {
            if (connection is not null) Closed(connection);
            await pipe.DisposeAsync().ConfigureAwait(false);
            Log.ConnectionClosed(_logger, id, remote);
        }
    }

    private async Task ProcessAsync(FrameConnection connection, SocketPipe pipe, PipeConnectionOutput output)
    {
        var input = pipe.Input;
        while (true)
        {
            var result = await input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            bool fatal;
            await output.WriteLock.WaitAsync().ConfigureAwait(false);
            try
            {
                fatal = HandleFrames(connection, ref buffer);
                await pipe.Output.FlushAsync().ConfigureAwait(false);
            }
            finally
            {
                output.WriteLock.Release();
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (fatal || result.IsCompleted || result.IsCanceled || _stopping.IsCancellationRequested) return;
        }
    }

    // The thread of one connection in thread-per-connection mode: handshake, then receive, handle, answer.
    private void RunThreaded(long id, ThreadedConnection threaded, string? remote, TaskCompletionSource done)
    {
        FrameConnection? connection = null;
        try
        {
            var frames = FrameSocket.Accept(threaded.Socket, _secret, _options.MaxFrameSize, _options.ConnectTimeout * 2);
            if (frames is null)
            {
                Log.HandshakeFailed(_logger, id, remote, "refused, timed out or closed");
                return;
            }

            var agreement = new Handshake.Agreement(frames.Version, frames.MaxFrameSize, frames.PeerRole);
            var (socket, received) = frames.Detach();
            var output = new SocketConnectionOutput(socket);
            connection = new FrameConnection(id, output, remote, agreement);
            ReceiveAndHandle(connection, socket, received, output);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            // The peer went away, or the server is stopping; nothing to answer.
        }
        finally
        {
            if (connection is not null) Closed(connection);
            threaded.Abort();
            Log.ConnectionClosed(_logger, id, remote);
            _connections.TryRemove(id, out var _);
            done.TrySetResult();
        }
    }

    private void ReceiveAndHandle(FrameConnection connection, Socket socket, ReceiveBuffer received, SocketConnectionOutput output)
    {
        var direct = new DirectPayload(socket, received);
        bool declined = false; // the handler did not take the frame being received directly: wait for it whole
        // What the handshake read past its own frames comes first; then each receive's whole frames.
        while (true)
        {
            var frames = received.Sequence;
            bool fatal;
            lock (output.Lock)
            {
                fatal = HandleFrames(connection, ref frames);
                output.Flush();
            }

            if (fatal) return;
            if (frames.Length != received.Count) declined = false; // whole frames were handled: a new one starts
            received.Consume(received.Count - (int)frames.Length);
            if (!declined && TryReceiveDirect(connection, received, direct, output, out declined)) continue;
            // Part of a frame may be left: make room for all of it (HandleFrames has checked its length).
            int needed = received.Count < FrameHeader.Size ? FrameHeader.Size : FrameHeader.Size + BinaryPrimitives.ReadInt32LittleEndian(received.Span);
            // A frame that may be received directly needs only its prefix here (the rest bypasses the buffer).
            if (!declined && needed - FrameHeader.Size >= DirectPayloadBytes) needed = FrameHeader.Size + DataRequestPrefixBytes;
            received.Reserve(needed, connection.MaxFrameSize);
            if (_stopping.IsCancellationRequested || received.ReceiveFrom(socket) == 0) return;
        }
    }

    // Offers a large request that has not fully arrived to the handler (IFrameHandler.TryReceiveDirect):
    // true when it took the frame. Its header was checked by HandleFrames (magic, size), all but the version.
    private bool TryReceiveDirect(FrameConnection connection, ReceiveBuffer received, DirectPayload direct, SocketConnectionOutput output, out bool declined)
    {
        declined = false;
        if (received.Count < FrameHeader.Size) return false;
        if (!FrameHeader.TryRead(received.Span, out var header, out _) || header.PayloadLength < DirectPayloadBytes
            || header.Version != connection.Version || header.IsResponse || header.IsEvent || _stopping.IsCancellationRequested)
        {
            declined = true; // received whole, as any frame (HandleFrames answers what is wrong with it)
            return false;
        }

        if (received.Count - FrameHeader.Size < DataRequestPrefixBytes) return false; // its prefix is not in yet
        received.Consume(FrameHeader.Size);
        direct.Begin(header.PayloadLength);
        lock (output.Lock)
        {
            bool taken;
            try
            {
                taken = _handler.TryReceiveDirect(connection, header, direct);
            }
            catch (WireException ex) when (!direct.Started)
            {
                Log.RequestRefused(_logger, connection.Id, connection.RemoteEndPoint, header.Opcode, ex.Code, ex.Message);
                connection.RespondError(header, ex.Code, ex.Message);
                taken = true;
            }
            catch (Exception ex) when (ex is not (SocketException or ObjectDisposedException or IOException or OutOfMemoryException))
            {
                Log.HandlerFailed(_logger, connection.Id, header.Opcode, ex);
                // Where the stream stands is unknown once the handler took bytes: the connection goes.
                if (direct.Started) throw new IOException($"The handler of {header.Opcode} failed in the middle of its payload.", ex);
                connection.RespondError(header, ErrorCode.InternalError, $"Internal error handling {header.Opcode}: {ex.GetType().Name}.");
                taken = true;
            }

            if (!taken)
            {
                // A handler that declines after consuming part of the payload is a bug; the stream is lost either way.
                if (direct.Started) throw new IOException($"The handler of {header.Opcode} declined a payload after consuming part of it.");
                received.Unconsume(FrameHeader.Size);
                declined = true;
                return false;
            }

            direct.SkipRest();
            output.Flush();
        }

        return true;
    }

    private void Closed(FrameConnection connection)
    {
        connection.MarkClosed();
        try { _handler.OnClosed(connection); } catch (Exception ex) { Log.HandlerFailed(_logger, connection.Id, 0, ex); }
    }

    // Handles every whole frame at the front of `buffer` (advancing it past them). True when the stream
    // cannot go on (a frame that is not ours or over the limit, a wrong version): answered, then closed.
    private bool HandleFrames(FrameConnection connection, ref ReadOnlySequence<byte> buffer)
    {
        while (!_stopping.IsCancellationRequested)
        {
            var status = FrameParser.TryRead(ref buffer, connection.MaxFrameSize, out var header, out var payload, out var error);
            if (status == FrameParser.Result.NeedMoreData) return false;
            if (status == FrameParser.Result.Fatal)
            {
                Log.FatalFrame(_logger, connection.Id, connection.RemoteEndPoint, error);
                var reply = new FrameHeader(0, connection.Version, header.Opcode, header.RequestId, ErrorCode.Ok, FrameFlags.None);
                connection.RespondError(reply, error, error == ErrorCode.FrameTooLarge
                    ? $"Frame larger than the agreed maximum of {connection.MaxFrameSize} bytes; closing the connection."
                    : "Not a RemoteMem frame (bad magic); closing the connection.");
                return true;
            }

            if (header.Version != connection.Version)
            {
                Log.FatalFrame(_logger, connection.Id, connection.RemoteEndPoint, ErrorCode.UnsupportedVersion);
                connection.RespondError(header, ErrorCode.UnsupportedVersion, $"Frame version {header.Version} differs from the agreed version {connection.Version}; closing the connection.");
                return true;
            }

            Dispatch(connection, header, payload);
        }

        return false;
    }

    private void Dispatch(FrameConnection connection, in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        if (header.IsResponse || header.IsEvent)
        {
            connection.RespondError(header, ErrorCode.MalformedFrame, "A server accepts requests only.");
            return;
        }

        try
        {
            _handler.OnFrame(connection, header, payload);
        }
        catch (WireException ex)
        {
            Log.RequestRefused(_logger, connection.Id, connection.RemoteEndPoint, header.Opcode, ex.Code, ex.Message);
            connection.RespondError(header, ex.Code, ex.Message);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.HandlerFailed(_logger, connection.Id, header.Opcode, ex);
            connection.RespondError(header, ErrorCode.InternalError, $"Internal error handling {header.Opcode}: {ex.GetType().Name}.");
        }
    }

    /// <summary>
    /// Stops accepting, lets each connection finish the frames it has already received whole, answers
    /// them, then closes. Frames not fully received are not executed: their senders see the close.
    /// </summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_stopping.IsCancellationRequested) return;
        _stopping.Cancel();
        _listener?.Dispose();
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        foreach (var (connection, _) in _connections.Values) connection.StopReceiving();
        var all = Task.WhenAll(_connections.Values.Select(c => c.Loop));
        await Task.WhenAny(all, Task.Delay(grace)).ConfigureAwait(false);
        foreach (var (connection, _) in _connections.Values) connection.Abort();
        await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>What <see cref="StopAsync"/> does to a connection, in either mode.</summary>
    private interface IServedConnection
    {
        /// <summary>No more frames are read; those already received are still handled and answered.</summary>
        void StopReceiving();

        void Abort();
    }

    private sealed class PipedConnection(SocketPipe pipe) : IServedConnection
    {
        public void StopReceiving() => pipe.Input.CancelPendingRead();

        public void Abort() => pipe.Abort();
    }

    private sealed class ThreadedConnection(Socket socket) : IServedConnection
    {
        public Socket Socket => socket;

        // A thread blocked in receive returns 0 once the receiving side is shut.
        public void StopReceiving()
        {
            try { socket.Shutdown(SocketShutdown.Receive); } catch (SocketException) { } catch (ObjectDisposedException) { }
        }

        public void Abort()
        {
            try { socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
            socket.Dispose();
        }
    }
}
