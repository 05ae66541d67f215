using System.IO.Pipelines;
using System.Net.Sockets;

namespace RemoteMem.Transport.Internal;

/// <summary>
/// A socket seen as a duplex pipe, in the style of Kestrel's socket transport: one receive loop moves
/// bytes from the socket into <see cref="Input"/>, one send loop moves bytes from <see cref="Output"/>
/// to the socket. The pipes' pause/resume thresholds give backpressure in both directions: a slow
/// reader stops the receive loop (and so the peer's TCP window), a slow socket stops writers.
/// </summary>
internal sealed class SocketPipe : IAsyncDisposable, IFrameChannel
{
    private readonly Socket _socket;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly Task _receiveLoop;
    private readonly Task _sendLoop;
    private int _disposed;

    public SocketPipe(Socket socket, int maxFrameSize)
    {
        _socket = socket;
        _socket.NoDelay = true;
        // The reader needs a whole frame before it consumes anything, so the pause threshold must
        // exceed the largest frame or the receive loop could wait forever on a reader waiting for it.
        long pause = 2L * maxFrameSize;
        long resume = maxFrameSize;
        _input = new Pipe(new PipeOptions(pauseWriterThreshold: pause, resumeWriterThreshold: resume, pool: PinnedBlockPool.Instance, useSynchronizationContext: false, minimumSegmentSize: PinnedBlockPool.BlockSize));
        _output = new Pipe(new PipeOptions(pauseWriterThreshold: pause, resumeWriterThreshold: resume, pool: PinnedBlockPool.Instance, useSynchronizationContext: false, minimumSegmentSize: PinnedBlockPool.BlockSize));
        _receiveLoop = ReceiveLoopAsync();
        _sendLoop = SendLoopAsync();
    }

    public PipeReader Input => _input.Reader;

    public PipeWriter Output => _output.Writer;

    public ValueTask<(Wire.FrameHeader Header, byte[] Payload)?> ReadFrameAsync(int maxFrameSize, CancellationToken cancellationToken) =>
        FrameIO.ReadFrameAsync(Input, maxFrameSize, cancellationToken);

    public ValueTask WriteFrameAsync(Wire.FrameHeader header, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        FrameIO.WriteFrameAsync(Output, header, payload, cancellationToken);

    /// <summary>Completes when the socket has closed in both directions.</summary>
    public Task Completion => Task.WhenAll(_receiveLoop, _sendLoop);

    private async Task ReceiveLoopAsync()
    {
        await Task.Yield();
        Exception? error = null;
        var writer = _input.Writer;
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(PinnedBlockPool.BlockSize);
                int received = await _socket.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
                if (received == 0) break;
                writer.Advance(received);
                var flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled) break;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            error = ex;
        }
        finally
        {
            await writer.CompleteAsync(error).ConfigureAwait(false);
        }
    }

    private async Task SendLoopAsync()
    {
        await Task.Yield();
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (result.IsCanceled) break;
                foreach (var segment in buffer)
                {
                    var remaining = segment;
                    while (!remaining.IsEmpty)
                    {
                        int sent = await _socket.SendAsync(remaining, SocketFlags.None).ConfigureAwait(false);
                        remaining = remaining[sent..];
                    }
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted) break;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            // The connection is gone; the receive side reports it to the reader.
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
            // Wake the receive loop, which may be blocked in ReceiveAsync.
            _socket.Dispose();
        }
    }

    /// <summary>Closes the connection at once: unsent output is dropped, readers see completion.</summary>
    public void Abort()
    {
        _output.Reader.CancelPendingRead();
        try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        _socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        // Let queued output go out, then close.
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        var sent = await Task.WhenAny(_sendLoop, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        Abort();
        await _receiveLoop.ConfigureAwait(false);
        await _sendLoop.ConfigureAwait(false);
        await _input.Reader.CompleteAsync().ConfigureAwait(false);
    }
}
