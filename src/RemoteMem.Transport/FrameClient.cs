using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RemoteMem.Transport.Internal;
using RemoteMem.Wire;

namespace RemoteMem.Transport;

/// <summary>
/// One authenticated control-plane connection to a manager or donor, shared by many concurrent callers: requests are
/// matched to responses by request id, so many are in flight and answers may come in any order. Hold
/// it and reuse it; it is thread-safe. When the connection fails, every pending request fails with
/// <see cref="ConnectionFailedException"/> and <see cref="IsConnected"/> turns false; make a new one.
/// </summary>
public sealed class FrameClient : IAsyncDisposable
{
    private readonly SocketPipe _pipe;
    private readonly RequestSlots _slots;
    private readonly Closure _closure;
    private readonly Channel<PendingRequest> _sendQueue;
    private readonly TransportOptions _options;
    private readonly ILogger _logger;
    private readonly Task _sendLoop;
    private readonly Task _receiveLoop;
    private readonly Timer _deadlineTimer;
    private readonly long _timeoutTicks;

    private FrameClient(SocketPipe pipe, string endpoint, Handshake.Agreement agreement, TransportOptions options, ILogger logger)
    {
        _closure = new Closure(endpoint);
        _pipe = pipe;
        Endpoint = endpoint;
        Version = agreement.Version;
        MaxFrameSize = agreement.MaxFrameSize;
        _options = options;
        _logger = logger;
        _slots = new RequestSlots(options.MaxInFlight);
        _sendQueue = Channel.CreateUnbounded<PendingRequest>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
        _timeoutTicks = (long)options.RequestTimeout.TotalMilliseconds;
        _sendLoop = SendLoopAsync();
        _receiveLoop = ReceiveLoopAsync();
        var period = TimeSpan.FromMilliseconds(Math.Clamp(options.RequestTimeout.TotalMilliseconds / 4, 10, 1000));
        _deadlineTimer = new Timer(static state => ((FrameClient)state!).CheckDeadlines(), this, period, period);
    }

    /// <summary>The remote endpoint, host:port.</summary>
    public string Endpoint { get; }

    /// <summary>The protocol version agreed in the handshake.</summary>
    public byte Version { get; }

    /// <summary>The largest frame both sides accept.</summary>
    public int MaxFrameSize { get; }

    public bool IsConnected => !_closure.IsClosed;

    /// <summary>Raised on a thread-pool thread for each unsolicited event frame (e.g. lease lost).</summary>
    public event Action<FrameHeader, byte[]>? EventReceived;

    /// <summary>Raised once when the connection fails or closes.</summary>
    public event Action<Exception>? Closed;

    /// <summary>Connects, runs the handshake (version, frame size, mutual authentication) and starts the loops.</summary>
    public static async Task<FrameClient> ConnectAsync(string endpoint, ClusterSecret secret, PeerRole role, TransportOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        SocketPipe? pipe = null;
        try
        {
            var address = await Endpoints.ResolveAsync(endpoint, timeout.Token).ConfigureAwait(false);
            await socket.ConnectAsync(address, timeout.Token).ConfigureAwait(false);
            pipe = new SocketPipe(socket, options.MaxFrameSize);
            var agreement = await Handshake.RunClientAsync(pipe, secret, role, options.MaxFrameSize, endpoint, timeout.Token).ConfigureAwait(false);
            return new FrameClient(pipe, endpoint, agreement, options, logger ?? NullLogger.Instance);
        }
        catch (Exception ex)
        {
            if (pipe is not null) await pipe.DisposeAsync().ConfigureAwait(false);
            else socket.Dispose();
            if (ex is WireException) throw;
            if (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
                throw new ConnectionFailedException(endpoint, $"no connection and handshake within {options.ConnectTimeout.TotalSeconds:0.#} s", ex);
            if (ex is SocketException or IOException)
                throw new ConnectionFailedException(endpoint, ex.Message, ex);
            throw;
        }
    }

    /// <summary>
    /// A control-plane call: sends <paramref name="payload"/> and returns the answer's payload.
    /// An error answer throws <see cref="WireException"/> with its code. <paramref name="cancellationToken"/>
    /// applies until the request is queued; after that the connection's request timeout bounds the wait.
    /// </summary>
    public async Task<byte[]> CallAsync(Opcode opcode, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        if (payload.Length > MaxFrameSize - FrameHeader.Size)
            throw new ArgumentException($"Payload of {payload.Length} bytes exceeds the frame limit.", nameof(payload));
        var slot = await AcquireAsync(cancellationToken).ConfigureAwait(false);
        slot.Opcode = opcode;
        slot.ControlPayload = payload;
        try
        {
            Submit(slot);
            await slot.AsValueTask().ConfigureAwait(false);
            return slot.ResponsePayload ?? [];
        }
        finally
        {
            _slots.Release(slot);
        }
    }

    private async ValueTask<PendingRequest> AcquireAsync(CancellationToken cancellationToken)
    {
        _closure.ThrowIfClosed();
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        return _slots.Take();
    }

    private void Submit(PendingRequest slot)
    {
        ulong id = ((ulong)slot.Generation << 32) | (uint)slot.Index;
        slot.Arm(id, synchronous: false, Environment.TickCount64 + _timeoutTicks);
        _sendQueue.Writer.TryWrite(slot);
        if (_closure.IsClosed) slot.TryFail(_closure.Error);
    }

    private async Task SendLoopAsync()
    {
        await Task.Yield();
        var reader = _sendQueue.Reader;
        var output = _pipe.Output;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var slot))
                {
                    if (!slot.TryTransition(PendingRequest.Pending, PendingRequest.Sending)) continue; // already failed
                    WriteRequest(output, slot);
                    slot.TryTransition(PendingRequest.Sending, PendingRequest.Pending);
                }

                var flush = await output.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted) break;
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or OperationCanceledException)
        {
            Close(new ConnectionFailedException(Endpoint, "sending failed: " + ex.Message, ex));
        }
    }

    private void WriteRequest(PipeWriter output, PendingRequest slot)
    {
        var header = new FrameHeader(slot.ControlPayload.Length, Version, slot.Opcode, slot.RequestId, ErrorCode.Ok, FrameFlags.None);
        header.Write(output.GetSpan(FrameHeader.Size));
        output.Advance(FrameHeader.Size);
        output.Write(slot.ControlPayload.Span);
    }

    private async Task ReceiveLoopAsync()
    {
        await Task.Yield();
        var input = _pipe.Input;
        Exception closeReason = new ConnectionFailedException(Endpoint, "the peer closed the connection");
        try
        {
            while (true)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                while (true)
                {
                    var status = FrameParser.TryRead(ref buffer, MaxFrameSize, out var header, out var payload, out var error);
                    if (status == FrameParser.Result.NeedMoreData) break;
                    if (status == FrameParser.Result.Fatal)
                        throw new WireException(error, $"{Endpoint} sent an invalid frame ({error}).");
                    Deliver(header, payload);
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled) break;
            }
        }
        catch (Exception ex)
        {
            closeReason = ex is ConnectionFailedException ? ex : new ConnectionFailedException(Endpoint, ex.Message, ex);
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
            Close(closeReason);
        }
    }

    private void Deliver(in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        if (header.IsEvent)
        {
            var handler = EventReceived;
            if (handler is not null)
            {
                var copy = payload.ToArray();
                var frame = header;
                ThreadPool.QueueUserWorkItem(_ => handler(frame, copy));
            }

            return;
        }

        var slot = header.IsResponse ? _slots.Find(header.RequestId) : null;
        if (slot is null || !slot.TryTransition(PendingRequest.Pending, PendingRequest.Delivering))
            throw new WireException(ErrorCode.MalformedFrame, $"{Endpoint} answered request {header.RequestId:x}, which is not pending.");

        if (header.Status != ErrorCode.Ok)
        {
            slot.CompleteDelivery(new WireException(header.Status, ErrorPayload.Decode(header.Status, payload.ToArray())));
            return;
        }

        slot.ResponsePayload = payload.ToArray();
        slot.CompleteDelivery(null);
    }

    private void CheckDeadlines()
    {
        if (!_closure.IsClosed && _slots.CheckDeadlines(Endpoint, _options.RequestTimeout, _logger) is { } late) Close(late);
    }

    private void Close(Exception reason)
    {
        if (!_closure.TryClose(reason)) return;
        _deadlineTimer.Dispose();
        _sendQueue.Writer.TryComplete();
        _pipe.Abort();
        _slots.FailAll(reason);
        while (_sendQueue.Reader.TryRead(out var queued)) queued.TryFail(reason);
        try { Closed?.Invoke(reason); } catch (Exception ex) { Log.CloseHandlerFailed(_logger, Endpoint, ex); }
    }

    public async ValueTask DisposeAsync()
    {
        Close(new ConnectionFailedException(Endpoint, "the connection was closed by this process"));
        await _pipe.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(_sendLoop, _receiveLoop).ConfigureAwait(false);
    }
}
