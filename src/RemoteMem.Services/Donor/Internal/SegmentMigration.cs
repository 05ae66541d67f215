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

    public static Task CopyAsync(DonorCore core, ISegmentTransport transport, ulong segmentId, IReadOnlyList<SegmentTarget> targets, ulong bytesPerSecond, CancellationToken cancellationToken) =>
        WhileFrozenAsync(core, segmentId, "move", async segment =>
        {
            foreach (var target in targets)
            {
                if ((long)target.Capability.Length != segment.Length)
                    throw new WireException(ErrorCode.InvalidArgument, $"A target of segment {segmentId} holds {target.Capability.Length} bytes, the segment {segment.Length}.");
            }

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
        });

    /// <summary>Writes one segment to a file (a spill when no donor has room), with writes refused meanwhile, and flushes it to disk.</summary>
    public static Task SpillAsync(DonorCore core, ulong segmentId, string path, CancellationToken cancellationToken) =>
        WhileFrozenAsync(core, segmentId, "spill", segment =>
        {
            try
            {
                using var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
                var source = core.Address(segment);
                for (long offset = 0; offset < segment.Length; offset += Chunk)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    RandomAccess.Write(file, PoolSpan(source + (nint)offset, (int)Math.Min(Chunk, segment.Length - offset)), offset);
                }

                RandomAccess.FlushToDisk(file);
            }
            catch
            {
                try { File.Delete(path); } catch (IOException) { }
                throw;
            }

            return Task.CompletedTask;
        });

    /// <summary>
    /// Runs <paramref name="work"/> on a segment held and frozen (reads go on, writes get SegmentMoving,
    /// the writes already inside finish first). On failure the segment takes writes again and stays here.
    /// </summary>
    private static async Task WhileFrozenAsync(DonorCore core, ulong segmentId, string what, Func<Segment, Task> work)
    {
        var segment = core.Find(segmentId)
            ?? throw new WireException(ErrorCode.InvalidArgument, $"Segment {segmentId} is not on this donor (released meanwhile?).");
        if (!segment.TryEnter())
            throw new WireException(ErrorCode.CapabilityRevoked, $"Segment {segmentId} was released while its {what} began.");
        try
        {
            segment.Freeze();
            await work(segment);
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

    /// <summary>The pool's native memory (it never moves) as a span.</summary>
    private static unsafe ReadOnlySpan<byte> PoolSpan(nint address, int length) => new((void*)address, length);
}
