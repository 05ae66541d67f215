using RemoteMem.Transport;
using RemoteMem.Wire;

namespace RemoteMem.Services.Donor.Internal;

/// <summary>
/// Copies one segment to its new place (or places) on other donors, donor to donor, while clients
/// keep reading it here. Writes are refused from the start (clients retry them at the new place once
/// the manager has switched the lease), so the copy is exact. On failure the segment accepts writes
/// again and stays, and the manager tries elsewhere or declares the lease lost.
/// </summary>
internal static class SegmentMigration
{
    /// <summary>Bytes per write request: large enough to stream, small enough to keep several in flight.</summary>
    private const int Chunk = 1 << 20;

    private const int InFlight = 8;

    public static async Task CopyAsync(DonorCore core, ISegmentTransport transport, ulong segmentId, IReadOnlyList<SegmentTarget> targets, ulong bytesPerSecond, CancellationToken cancellationToken)
    {
        var segment = core.Find(segmentId)
            ?? throw new WireException(ErrorCode.InvalidArgument, $"Segment {segmentId} is not on this donor (released meanwhile?).");
        foreach (var target in targets)
        {
            if ((long)target.Capability.Length != segment.Length)
                throw new WireException(ErrorCode.InvalidArgument, $"A target of segment {segmentId} holds {target.Capability.Length} bytes, the segment {segment.Length}.");
        }

        if (!segment.TryEnter())
            throw new WireException(ErrorCode.CapabilityRevoked, $"Segment {segmentId} was released while its move began.");
        try
        {
            segment.Freeze();
            var source = core.Address(segment);
            int chunk = Math.Min(Chunk, transport.MaxBytesPerRequest);
            var pending = new List<Task>(InFlight);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            long sent = 0;
            for (long offset = 0; offset < segment.Length; offset += chunk)
            {
                // Rate cap: wait until the bytes sent so far fit the allowed rate.
                if (bytesPerSecond > 0)
                {
                    var due = TimeSpan.FromSeconds(sent / (double)bytesPerSecond) - clock.Elapsed;
                    if (due > TimeSpan.Zero) await Task.Delay(due, cancellationToken);
                }

                sent += Math.Min(chunk, segment.Length - offset) * targets.Count;
                var op = new IoOp(offset, source + (nint)offset, (int)Math.Min(chunk, segment.Length - offset));
                foreach (var target in targets)
                {
                    pending.Add(transport.WriteAsync(target, new[] { op }, cancellationToken).AsTask());
                    if (pending.Count == InFlight)
                    {
                        await pending[0];
                        pending.RemoveAt(0);
                    }
                }
            }

            await Task.WhenAll(pending);
        }
        catch
        {
            segment.Thaw();
            throw;
        }
        finally
        {
            segment.Exit();
        }
    }

    /// <summary>Writes one segment to a file (a spill when no donor has room), with writes refused meanwhile, and flushes it to disk.</summary>
    public static async Task SpillAsync(DonorCore core, ulong segmentId, string path, CancellationToken cancellationToken)
    {
        var segment = core.Find(segmentId)
            ?? throw new WireException(ErrorCode.InvalidArgument, $"Segment {segmentId} is not on this donor (released meanwhile?).");
        if (!segment.TryEnter())
            throw new WireException(ErrorCode.CapabilityRevoked, $"Segment {segmentId} was released while its spill began.");
        try
        {
            segment.Freeze();
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
            var source = core.Address(segment);
            for (long offset = 0; offset < segment.Length; offset += Chunk)
            {
                int length = (int)Math.Min(Chunk, segment.Length - offset);
                await file.WriteAsync(Pooled(source + (nint)offset, length), cancellationToken);
            }

            file.Flush(flushToDisk: true);
        }
        catch
        {
            segment.Thaw();
            try { File.Delete(path); } catch (IOException) { }
            throw;
        }
        finally
        {
            segment.Exit();
        }
    }

    /// <summary>The pool's native memory as a <see cref="ReadOnlyMemory{T}"/> for stream APIs (the pool never moves).</summary>
    private static ReadOnlyMemory<byte> Pooled(nint address, int length) => new NativeMemory(address, length).Memory;

    private sealed unsafe class NativeMemory(nint address, int length) : System.Buffers.MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new((void*)address, length);

        public override System.Buffers.MemoryHandle Pin(int elementIndex = 0) => new((byte*)address + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
