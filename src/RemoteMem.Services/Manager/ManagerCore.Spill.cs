using RemoteMem.Services.Manager.Internal;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Services.Manager;

/// <summary>
/// Spilling: a drain that finds no donor with room writes the segment of a lease that opted in
/// (AllowSpill) to a file in <see cref="ManagerOptions.SpillDirectory"/>, a folder every node sees.
/// The lease then points at the file ("file:" endpoint): clients read and write it directly, slowly but
/// without losing data, until the lease ends and the file is deleted. Not for replicated groups that
/// still have a copy elsewhere (they degrade and rebuild instead).
/// </summary>
public sealed partial class ManagerCore
{
    private async Task<bool> TrySpillAsync(DonorRecord source, LeaseRecord lease, PlacedSegment segment, CancellationToken cancellationToken)
    {
        FrameClient? admin;
        lock (_lock)
        {
            if (!lease.AllowSpill || _options.SpillDirectory is null || !lease.Segments.Contains(segment)) return false;
            if (lease.Segments.Any(s => s.Group == segment.Group && s.DonorId != source.Id)) return false;
            admin = source.Admin;
        }

        if (admin is null) return false;
        Directory.CreateDirectory(_options.SpillDirectory);
        var path = Path.Combine(Path.GetFullPath(_options.SpillDirectory), $"lease-{lease.Id}-segment-{segment.SegmentId}-{Guid.NewGuid():N}.spill");
        try
        {
            await admin.CallAsync(Opcode.SegmentSpill, new SegmentSpill(segment.SegmentId, path).Encode(), cancellationToken);
        }
        catch (Exception ex) when (ex is WireException or ConnectionFailedException or OperationCanceledException or IOException)
        {
            DeleteSpill(path);
            ManagerLog.SpillFailed(_logger, lease.Id, path, ex.Message);
            return false;
        }

        var spilled = new PlacedSegment(0, SpillEndpoint.For(path), 0, 0, segment.Length, segment.Group);
        bool switched;
        lock (_lock)
        {
            int index = Array.IndexOf(lease.Segments, segment);
            switched = index >= 0 && lease.LostReason is null && _leases.ContainsKey(lease.Id);
            if (switched) lease.Segments[index] = spilled;
        }

        if (!switched)
        {
            DeleteSpill(path);
            return false;
        }

        await FreeAsync([segment]);
        ManagerLog.Spilled(_logger, lease.Id, segment.SegmentId, path);
        return true;
    }

    /// <summary>The file a spilled segment lives in, or null for a segment on a donor.</summary>
    private static string? SpilledTo(PlacedSegment segment) => SpillEndpoint.PathOf(segment.Endpoint);

    private void DeleteSpill(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ManagerLog.SpillFailed(_logger, 0, path, "could not delete: " + ex.Message);
        }
    }
}
