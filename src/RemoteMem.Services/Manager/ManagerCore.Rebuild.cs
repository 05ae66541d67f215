using RemoteMem.Services.Manager.Internal;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Services.Manager;

/// <summary>
/// Rebuilding replicas lost with a donor. For each group short of copies, a surviving copy is moved
/// and multiplied at once: its donor copies it (writes refused meanwhile) into a replacement and into
/// each missing copy, the group switches to the new set, and the old copy is freed. Freeing it is what
/// makes every holder renew (their old capabilities are refused), so no holder can keep writing to
/// fewer copies than the group now has. One lease rebuilds at a time, which bounds the bandwidth a
/// rebuild takes from the cluster; a lease that cannot be rebuilt now (no room, too few nodes) is tried
/// again on later sweeps. The copy itself is capped at <see cref="ManagerOptions.RebuildBandwidth"/>.
/// </summary>
public sealed partial class ManagerCore
{
    private readonly SemaphoreSlim _rebuildGate = new(1, 1);

    /// <summary>Starts rebuilds for degraded leases that are not being rebuilt (called from the sweep and after a failure).</summary>
    private void StartRebuilds()
    {
        List<LeaseRecord> degraded;
        lock (_lock)
        {
            degraded = _leases.Values.Where(l => l.IsDegraded && !l.Rebuilding).ToList();
            foreach (var lease in degraded) lease.Rebuilding = true;
        }

        foreach (var lease in degraded) _ = RebuildAsync(lease);
    }

    private async Task RebuildAsync(LeaseRecord lease)
    {
        await _rebuildGate.WaitAsync().ConfigureAwait(false);
        try
        {
            for (ushort group = 0; group < lease.Groups; group++) await RebuildGroupAsync(lease, group).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WireException or ConnectionFailedException or IOException or OperationCanceledException)
        {
            ManagerLog.RebuildFailed(_logger, lease.Id, ex.Message);
        }
        finally
        {
            lock (_lock) lease.Rebuilding = false;
            _rebuildGate.Release();
        }
    }

    private async Task RebuildGroupAsync(LeaseRecord lease, ushort group)
    {
        PlacedSegment source;
        FrameClient? admin;
        int missing;
        List<DonorRecord> candidates;
        lock (_lock)
        {
            if (!_leases.ContainsKey(lease.Id) || lease.LostReason is not null) return;
            var copies = lease.Segments.Where(s => s.Group == group).ToList();
            missing = lease.Replicas - copies.Count;
            if (missing <= 0) return;
            var alive = copies.FirstOrDefault(s => _donors.TryGetValue(s.DonorId, out var d) && d.Health == DonorHealth.Alive);
            if (alive is null) return; // only a draining copy is left: its drain moves it
            source = alive;
            admin = _donors[source.DonorId].Admin;
            candidates = _donors.Values.Where(d => d.Health == DonorHealth.Alive && d.Admin is not null && d.Available >= (long)source.Length)
                .OrderByDescending(d => d.Available).ToList();
        }

        if (admin is null) return;
        // The replacement and the missing copies, each on a node none of the group's other copies uses.
        var nodes = new HashSet<string>();
        lock (_lock)
        {
            foreach (var other in lease.Segments.Where(s => s.Group == group && s != source))
                if (_donors.TryGetValue(other.DonorId, out var d)) nodes.Add(d.Node);
        }

        var placed = new List<PlacedSegment>();
        foreach (var donor in candidates)
        {
            if (placed.Count == missing + 1) break;
            if (nodes.Contains(donor.Node)) continue;
            var segment = await TryAllocateAsync(donor, lease.Id, source.Length, group, CancellationToken.None).ConfigureAwait(false);
            if (segment is null) continue;
            placed.Add(segment);
            nodes.Add(donor.Node);
        }

        if (placed.Count < missing + 1)
        {
            await FreeAsync(placed).ConfigureAwait(false);
            ManagerLog.RebuildFailed(_logger, lease.Id, $"group {group}: no room for {missing + 1} copies of {ByteSize.Format((long)source.Length)} on distinct nodes; retried later");
            return;
        }

        var targets = placed.Select(p => new SegmentMigrate.Target(p.Endpoint, CopyCapability(lease, p))).ToList();
        try
        {
            ulong rate = (ulong)ByteSize.Parse(_options.RebuildBandwidth);
            await admin.CallAsync(Opcode.SegmentMigrate, new SegmentMigrate(source.SegmentId, targets, rate).Encode()).ConfigureAwait(false);
        }
        catch
        {
            await FreeAsync(placed).ConfigureAwait(false);
            throw;
        }

        bool switched;
        lock (_lock)
        {
            switched = _leases.ContainsKey(lease.Id) && lease.LostReason is null && lease.Segments.Contains(source);
            if (switched) lease.Segments = [.. lease.Segments.Where(s => s != source), .. placed];
        }

        // Switched: the old copy goes, and with it every holder's old capabilities for it.
        await FreeAsync(switched ? [source] : placed).ConfigureAwait(false);
        if (switched) ManagerLog.Rebuilt(_logger, lease.Id, group, placed.Count, string.Join(", ", placed.Select(p => p.DonorId)));
    }
}
