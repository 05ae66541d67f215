using System.Buffers;
using RemoteMem.Wire;

namespace RemoteMem.Transport.Internal;

/// <summary>Answers written into a <see cref="SocketPipe"/>'s output; the server's loop flushes them after each batch.</summary>
internal sealed class PipeConnectionOutput(SocketPipe pipe) : ConnectionOutput
{
    /// <summary>Held by the loop while it handles a batch and by <see cref="SendAsync"/>, so frames never interleave.</summary>
    public SemaphoreSlim WriteLock { get; } = new(1, 1);

    public override void WriteHeader(in FrameHeader header)
    {
        header.Write(pipe.Output.GetSpan(FrameHeader.Size));
        pipe.Output.Advance(FrameHeader.Size);
    }

    public override void WriteData(ReadOnlySpan<byte> data) => pipe.Output.Write(data);

    public override async Task SendAsync(FrameHeader header, ReadOnlyMemory<byte> payload, CancellationToken closed)
    {
        if (closed.IsCancellationRequested) return;
        await WriteLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (closed.IsCancellationRequested) return;
            await FrameIO.WriteFrameAsync(pipe.Output, header, payload, CancellationToken.None).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // The output completed under us: the connection is closing and the peer sees that.
        }
        finally
        {
            WriteLock.Release();
        }
    }
}
