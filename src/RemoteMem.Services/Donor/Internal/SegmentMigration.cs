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

    public static async Task CopyAsync(DonorCore core, ISegmentTransport transport, ulong segmentId, IReadOnlyList<SegmentTarget> targets, CancellationToken cancellationToken)
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
            for (long offset = 0; offset < segment.Length; offset += chunk)
            {
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
}
