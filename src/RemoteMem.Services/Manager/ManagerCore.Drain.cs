using RemoteMem.Services.Manager.Internal;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Services.Manager;

/// <summary>
/// Draining a donor that must leave (SIGTERM, Slurm preemption): its segments move, one at a time, to
/// other donors while clients keep running. For each segment: carve a new one elsewhere, have the
/// leaving donor copy into it (it refuses writes meanwhile, so the copy is exact), switch the lease
/// to the new place, then free the old one. Clients whose requests meet the move (SegmentMoving) or
/// the freed segment (CapabilityRevoked) renew, receive the new place, and retry: the application
/// sees nothing. A segment with nowhere to go loses its lease, and the holders are told at once.
/// </summary>
public sealed partial class ManagerCore
{
    /// <summary>Asks a donor to drain and leave (an operator's `remotemem donor drain`); returns once it has accepted.</summary>
    public async Task AskToLeaveAsync(ulong donorId)
    {
        FrameClient? admin;
        lock (_lock)
        {
            if (!_donors.TryGetValue(donorId, out var donor) || donor.Health != DonorHealth.Alive)
                throw new WireException(ErrorCode.UnknownDonor, $"Donor {donorId} is not alive here (see `remotemem status`).");
            admin = donor.Admin;
        }

        if (admin is null) throw new WireException(ErrorCode.UnknownDonor, $"The manager has no connection to donor {donorId} right now; try again.");
        await admin.CallAsync(Opcode.DonorLeave, ReadOnlyMemory<byte>.Empty);
    }

    public async Task<DonorDrainReply> DrainAsync(DonorDrain request)
    {
        DonorRecord donor;
        List<(LeaseRecord Lease, PlacedSegment Segment)> work;
        lock (_lock)
        {
            if (!_donors.TryGetValue(request.DonorId, out donor!) || !donor.IsServing)
                throw new WireException(ErrorCode.UnknownDonor, $"Donor {request.DonorId} is not registered (or was declared dead).");
            donor.Health = DonorHealth.Draining;
            work = _leases.Values.Where(l => l.LostReason is null)
                .SelectMany(l => l.Segments.Where(s => s.DonorId == donor.Id && !s.Freed).Select(s => (l, s))).ToList();
        }

        ManagerLog.DonorDraining(_logger, donor.Id, donor.Endpoint, work.Count, request.GraceMs);
        using var grace = new CancellationTokenSource(TimeSpan.FromMilliseconds(request.GraceMs));
        uint moved = 0, lost = 0;
        foreach (var (lease, segment) in work)
        {
            string? failure = grace.IsCancellationRequested
                ? $"the donor's drain grace of {request.GraceMs / 1000.0:0.#} s ran out"
                : await TryMoveAsync(donor, lease, segment, grace.Token);
            if (failure is null)
            {
                moved++;
                continue;
            }

            if (!grace.IsCancellationRequested && await TrySpillAsync(donor, lease, segment, grace.Token))
            {
                moved++;
                continue;
            }

            bool announce;
            lock (_lock)
            {
                announce = lease.LostReason is null && _leases.ContainsKey(lease.Id) && lease.Segments.Contains(segment);
                // Another replica of the group elsewhere keeps the lease whole: drop this one instead.
                if (announce && lease.Segments.Any(s => s.Group == segment.Group && s.DonorId != donor.Id))
                {
                    lease.Segments = lease.Segments.Where(s => s != segment).ToArray();
                    ManagerLog.LeaseDegraded(_logger, lease.Id, donor.Id, lease.Segments.Length, lease.Groups * lease.Replicas);
                    announce = false;
                }
                else if (announce)
                {
                    lease.LostReason = $"{donor.Describe()} left and its {ByteSize.Format((long)segment.Length)} segment could not move: {failure}";
                }
            }

            if (announce)
            {
                lost++;
                AnnounceLoss(lease);
            }
        }

        ManagerLog.DonorDrained(_logger, donor.Id, moved, lost);
        return new DonorDrainReply(moved, lost);
    }

    /// <summary>The capability a donor uses to copy a segment into <paramref name="placed"/>: read-write, valid long enough for a large copy.</summary>
    private Capability CopyCapability(LeaseRecord lease, PlacedSegment placed) => _authority.Sign(new Capability
    {
        LeaseId = lease.Id,
        DonorId = placed.DonorId,
        SegmentId = placed.SegmentId,
        PoolOffset = placed.PoolOffset,
        Length = placed.Length,
        ExpiresUnixMs = NowUnixMs + (long)TimeSpan.FromMinutes(10).TotalMilliseconds,
        Rights = Rights.ReadWrite,
    });

    /// <summary>Moves one segment off a draining donor. Null on success, else why it could not move.</summary>
    private async Task<string?> TryMoveAsync(DonorRecord source, LeaseRecord lease, PlacedSegment segment, CancellationToken cancellationToken)
    {
        List<DonorRecord> candidates;
        FrameClient? sourceAdmin;
        lock (_lock)
        {
            sourceAdmin = source.Admin;
            // Prefer donors that hold no other part of this lease (its stripes stay spread), then the roomiest.
            // Never onto a node that holds another replica of the same group.
            var holding = lease.Segments.Select(s => s.DonorId).ToHashSet();
            var groupNodes = lease.Segments.Where(s => s.Group == segment.Group && s != segment)
                .Select(s => _donors.TryGetValue(s.DonorId, out var d) ? d.Node : "").ToHashSet();
            candidates = _donors.Values
                .Where(d => d.Health == DonorHealth.Alive && d.Admin is not null && d.Id != source.Id && d.Available >= (long)segment.Length && !groupNodes.Contains(d.Node))
                .OrderBy(d => holding.Contains(d.Id)).ThenByDescending(d => d.Available).ToList();
        }

        if (sourceAdmin is null) return "the manager lost its connection to the donor";
        // Clients may write a fabric donor's memory one-sided, past the freeze that makes a copy exact.
        if (source.Fabric is not null) return "its clients may write it one-sided over the fabric, which a move cannot yet fence";
        if (candidates.Count == 0) return $"no donor has {ByteSize.Format((long)segment.Length)} free";
        string failure = "no donor could take it";
        foreach (var target in candidates)
        {
            var placed = await TryAllocateAsync(target, lease.Id, segment.Length, segment.Group, cancellationToken);
            if (placed is null) continue;
            var capability = CopyCapability(lease, placed);
            try
            {
                await sourceAdmin.CallAsync(Opcode.SegmentMigrate, new SegmentMigrate(segment.SegmentId, [new SegmentMigrate.Target(placed.Endpoint, capability)]).Encode(), cancellationToken);
            }
            catch (Exception ex) when (ex is WireException or ConnectionFailedException or OperationCanceledException or IOException)
            {
                failure = ex is OperationCanceledException ? "the drain grace ran out during the copy" : ex.Message;
                await FreeAsync([placed]);
                if (ex is OperationCanceledException) return failure;
                continue;
            }

            bool switched;
            lock (_lock)
            {
                int index = Array.IndexOf(lease.Segments, segment);
                switched = index >= 0 && lease.LostReason is null && _leases.ContainsKey(lease.Id);
                if (switched) lease.Segments[index] = placed;
            }

            // Switched: the old copy goes (clients still using it get CapabilityRevoked, renew, and
            // find the new place). Not switched (the lease ended or was lost meanwhile): the new copy goes.
            await FreeAsync([switched ? segment : placed]);
            if (switched) ManagerLog.SegmentMoved(_logger, lease.Id, segment.SegmentId, source.Id, placed.DonorId);
            return switched ? null : "the lease ended while it moved";
        }

        return failure;
    }
}
