using System.Buffers;
using System.IO.Pipelines;
using RemoteMem.Wire;

namespace RemoteMem.Transport.Internal;

/// <summary>Whole-frame reads and writes for the handshake and other cold paths (they allocate; the hot paths do not use them).</summary>
internal static class FrameIO
{
    public static async ValueTask<(FrameHeader Header, byte[] Payload)?> ReadFrameAsync(PipeReader reader, int maxFrameSize, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var status = FrameParser.TryRead(ref buffer, maxFrameSize, out var header, out var payload, out var error);
            if (status == FrameParser.Result.Frame)
            {
                var bytes = payload.ToArray();
                reader.AdvanceTo(buffer.Start);
                return (header, bytes);
            }

            if (status == FrameParser.Result.Fatal)
            {
                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                throw new WireException(error, error == ErrorCode.FrameTooLarge ? "Frame larger than the allowed maximum." : "Not a RemoteMem frame.");
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                return null;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    public static void WriteFrame(PipeWriter writer, in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        var span = writer.GetSpan(FrameHeader.Size);
        (header with { PayloadLength = payload.Length }).Write(span);
        writer.Advance(FrameHeader.Size);
        if (!payload.IsEmpty) writer.Write(payload);
    }

    public static async ValueTask WriteFrameAsync(PipeWriter writer, FrameHeader header, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        WriteFrame(writer, header, payload.Span);
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
