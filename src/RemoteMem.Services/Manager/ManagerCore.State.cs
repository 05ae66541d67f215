using RemoteMem.Services.Manager.Internal;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Services.Manager;

/// <summary>
/// Surviving a manager restart. With <see cref="ManagerOptions.StateFile"/> the manager writes its
/// donors and leases to a file whenever they change (checked on every sweep, written atomically) and
/// reads it back at start. Donors keep serving while the manager is away and re-register with their
/// old id, so they keep their segments; clients keep reading and writing (capabilities stay valid
/// until their expiry) and renew once the manager is back. Each restored holder gets one lease lifetime
/// from the restart to renew, so an outage longer than the lifetime does not expire live leases.
/// </summary>
public sealed partial class ManagerCore
{
    private string? _lastSaved;

    /// <summary>Writes the state file if anything changed since the last write.</summary>
    private void SaveState()
    {
        if (_options.StateFile is not { } path) return;
        string json;
        lock (_lock) json = Snapshot().ToJson();
        if (json == _lastSaved) return;
        try
        {
            var temporary = path + ".tmp";
            File.WriteAllText(temporary, json);
            File.Move(temporary, path, overwrite: true);
            _lastSaved = json;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Keep serving; the next sweep tries again. A restart meanwhile would find the older state.
            ManagerLog.StateNotSaved(_logger, path, ex.Message);
        }
    }

    private ManagerSnapshot Snapshot() => new(
        _nextDonorId,
        _nextLeaseId,
        _donors.Values.Where(d => d.IsServing).Select(d => new ManagerSnapshot.Donor(d.Id, d.Name, d.Node, d.Endpoint, d.OfferedBytes, d.LeasedBytes, d.Cores, d.Gpus, d.Job, d.Fabric)).ToList(),
        _leases.Values.Where(l => l.LostReason is null).Select(l => new ManagerSnapshot.Lease(
            l.Id, l.Bytes, l.StripeSize, l.Replicas, l.Groups,
            l.Segments.Select(s => new ManagerSnapshot.Segment(s.DonorId, s.Endpoint, s.SegmentId, s.PoolOffset, s.Length, s.Group)).ToList(),
            l.Holders.Values.Select(h => new ManagerSnapshot.Holder(h.Id, h.Rights, (long)h.Ttl.TotalMilliseconds)).ToList(),
            l.Name, l.Metadata, l.CapabilitiesValidUntilUnixMs, l.AllowSpill)).ToList(),
        [.. _executors.Values.OrderBy(e => e.LeaseId)]);

    /// <summary>Reads the state file, if there is one, and reopens the manager's connection to each restored donor.</summary>
    public void RestoreState()
    {
        if (_options.StateFile is not { } path || !File.Exists(path)) return;
        var snapshot = ManagerSnapshot.FromJson(File.ReadAllText(path));
        long now = NowUnixMs;
        lock (_lock)
        {
            _nextDonorId = snapshot.NextDonorId;
            _nextLeaseId = snapshot.NextLeaseId;
            foreach (var d in snapshot.Donors)
            {
                _donors[d.Id] = new DonorRecord
                {
                    Id = d.Id, Name = d.Name, Node = d.Node, Endpoint = d.Endpoint, OfferedBytes = d.OfferedBytes, LeasedBytes = d.LeasedBytes,
                    Cores = d.Cores, Gpus = d.Gpus, Job = d.Job, Fabric = d.Fabric,
                    // Donors reconnect with a backoff of up to 5 s: give them that long before the silence counts.
                    LastHeartbeatTicks = NowTicks + 6000,
                };
            }

            foreach (var l in snapshot.Leases)
            {
                var lease = new LeaseRecord
                {
                    Id = l.Id, Bytes = l.Bytes, StripeSize = l.StripeSize, Replicas = l.Replicas, Groups = l.Groups,
                    Segments = [.. l.Segments.Select(s => new PlacedSegment(s.DonorId, s.Endpoint, s.SegmentId, s.PoolOffset, s.Length, s.Group))],
                    Name = l.Name, Metadata = l.Metadata, CapabilitiesValidUntilUnixMs = l.CapabilitiesValidUntilUnixMs, AllowSpill = l.AllowSpill,
                };
                foreach (var h in l.Holders)
                    lease.Holders[h.Id] = new Holder { Id = h.Id, Rights = h.Rights, Ttl = TimeSpan.FromMilliseconds(h.TtlMs), ExpiresUnixMs = now + h.TtlMs };
                _leases[lease.Id] = lease;
                if (lease.Name is not null) _names[lease.Name] = lease;
            }

            foreach (var executor in snapshot.Executors ?? [])
            {
                if (!_donors.TryGetValue(executor.DonorId, out var donor)) continue;
                _executors[executor.LeaseId] = executor;
                donor.UsedCores += executor.Cores;
                donor.UsedGpus += executor.Gpus;
            }
        }

        _lastSaved = null;
        ManagerLog.StateRestored(_logger, path, snapshot.Donors.Count, snapshot.Leases.Count);
        // Re-open the manager's connection to each donor now; one that is gone is declared dead at once.
        foreach (var donor in _donors.Values.ToList()) _ = ConnectAdminAsync(donor);
    }
}
