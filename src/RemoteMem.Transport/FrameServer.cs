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
/// </summary>
public sealed class FrameServer : IAsyncDisposable
{
    private readonly IFrameHandler _handler;
    private readonly ClusterSecret _secret;
    private readonly TransportOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, (SocketPipe Pipe, Task Loop)> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private long _nextConnectionId;

    public FrameServer(IFrameHandler handler, ClusterSecret secret, TransportOptions options, ILogger? logger = null)
    {
        options.Validate();
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
            var pipe = new SocketPipe(socket, _options.MaxFrameSize);
            var remote = socket.RemoteEndPoint?.ToString();
            Log.ConnectionAccepted(_logger, id, remote);
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _connections[id] = (pipe, tcs.Task);
            _ = RunConnectionAsync(id, pipe, remote).ContinueWith(_ =>
            {
                _connections.TryRemove(id, out var _);
                tcs.TrySetResult();
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

            connection = new FrameConnection(id, pipe, remote, agreement.Value);
            await ProcessAsync(connection, pipe).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
        {
            // The peer went away; nothing to answer.
        }
        finally
        {
            if (connection is not null)
            {
                connection.MarkClosed();
                try { _handler.OnClosed(connection); } catch (Exception ex) { Log.HandlerFailed(_logger, id, 0, ex); }
            }

            await pipe.DisposeAsync().ConfigureAwait(false);
            Log.ConnectionClosed(_logger, id, remote);
        }
    }

    private async Task ProcessAsync(FrameConnection connection, SocketPipe pipe)
    {
        var input = pipe.Input;
        var output = pipe.Output;
        while (true)
        {
            var result = await input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            bool fatal = false;
            await connection.WriteLock.WaitAsync().ConfigureAwait(false);
            try
            {
                while (!_stopping.IsCancellationRequested)
                {
                    var status = FrameParser.TryRead(ref buffer, connection.MaxFrameSize, out var header, out var payload, out var error);
                    if (status == FrameParser.Result.NeedMoreData) break;
                    if (status == FrameParser.Result.Fatal)
                    {
                        Log.FatalFrame(_logger, connection.Id, connection.RemoteEndPoint, error);
                        var reply = new FrameHeader(0, connection.Version, header.Opcode, header.RequestId, ErrorCode.Ok, FrameFlags.None);
                        connection.RespondError(reply, error, error == ErrorCode.FrameTooLarge
                            ? $"Frame larger than the agreed maximum of {connection.MaxFrameSize} bytes; closing the connection."
                            : "Not a RemoteMem frame (bad magic); closing the connection.");
                        fatal = true;
                        break;
                    }

                    if (header.Version != connection.Version)
                    {
                        Log.FatalFrame(_logger, connection.Id, connection.RemoteEndPoint, ErrorCode.UnsupportedVersion);
                        connection.RespondError(header, ErrorCode.UnsupportedVersion, $"Frame version {header.Version} differs from the agreed version {connection.Version}; closing the connection.");
                        fatal = true;
                        break;
                    }

                    Dispatch(connection, header, payload);
                }

                await output.FlushAsync().ConfigureAwait(false);
            }
            finally
            {
                connection.WriteLock.Release();
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (fatal || result.IsCompleted || result.IsCanceled || _stopping.IsCancellationRequested) return;
        }
    }

    private void Dispatch(FrameConnection connection, in FrameHeader header, in System.Buffers.ReadOnlySequence<byte> payload)
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
        foreach (var (pipe, _) in _connections.Values) pipe.Input.CancelPendingRead();
        var all = Task.WhenAll(_connections.Values.Select(c => c.Loop));
        await Task.WhenAny(all, Task.Delay(grace)).ConfigureAwait(false);
        foreach (var (pipe, _) in _connections.Values) pipe.Abort();
        await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        _stopping.Dispose();
    }
}
