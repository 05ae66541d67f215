using Microsoft.Extensions.Logging;
using RemoteMem.Services.Manager.Internal;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Services.Manager;

/// <summary>
/// The manager's state and decisions, independent of the host: donor registry and failure detection,
/// placement, leases with expiry, and capability signing.
/// </summary>
public sealed partial class ManagerCore : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly Dictionary<ulong, DonorRecord> _donors = [];
    private readonly Dictionary<ulong, LeaseRecord> _leases = [];
    private readonly Dictionary<string, LeaseRecord> _names = new(StringComparer.Ordinal);
    private readonly ManagerOptions _options;
    private readonly ClusterSecret _secret;
    private readonly CapabilityAuthority _authority;
    private readonly TransportOptions _transport;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private ulong _nextDonorId;
    private ulong _nextLeaseId;

    public ManagerCore(ManagerOptions options, ClusterSecret secret, TransportOptions transport, ILogger logger, TimeProvider? time = null)
    {
        _options = options;
        _secret = secret;
        _authority = new CapabilityAuthority(secret);
        _transport = transport;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The endpoint shown in status reports.</summary>
    public string Endpoint { get; set; } = "";

    private long NowUnixMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private long NowTicks => Environment.TickCount64;

    // ---- donors -------------------------------------------------------------------------------

    public async Task<DonorRegisterReply> RegisterDonorAsync(DonorRegister request)
    {
        if (request.OfferedBytes == 0 || request.OfferedBytes > long.MaxValue)
            throw new WireException(ErrorCode.InvalidArgument, "A donor must offer a positive number of bytes.");
        Endpoints.Split(request.DataEndpoint);
        DonorRecord record;
        bool joining = false;
        lock (_lock)
        {
            if (request.PreviousDonorId != 0 && _donors.TryGetValue(request.PreviousDonorId, out var known) && known.IsServing)
            {
                record = known;
                record.LastHeartbeatTicks = NowTicks;
            }
            else
            {
                joining = true;
                record = new DonorRecord
                {
                    Id = ++_nextDonorId,
                    Name = request.Name,
                    Node = request.Node,
                    Endpoint = request.DataEndpoint,
                    OfferedBytes = (long)request.OfferedBytes,
                    Cores = request.Cores,
                    Gpus = request.Gpus,
                    Job = request.Job,
                    Fabric = request.Fabric,
                    LastHeartbeatTicks = NowTicks,
                };
            }
        }

        // Answer only once the manager can reach the donor's data endpoint, so a registered donor is
        // placeable; a new donor joins the registry (and the status report) only then, so nobody sees
        // an "alive" donor that placement would still pass over.
        if (record.Admin is not { IsConnected: true }) await ConnectAdminAsync(record);
        if (!record.IsServing || record.Admin is not { IsConnected: true })
            throw new WireException(ErrorCode.UnknownDonor, $"The manager cannot reach {record.Endpoint}; check --listen/--advertise.");
        if (joining)
        {
            lock (_lock) _donors[record.Id] = record;
        }

        ManagerLog.DonorRegistered(_logger, record.Id, record.Name, record.Endpoint, record.OfferedBytes, record.Cores);
        return new DonorRegisterReply(record.Id, (int)_options.HeartbeatInterval.TotalMilliseconds);
    }

    public void Heartbeat(DonorHeartbeat beat)
    {
        lock (_lock)
        {
            if (!_donors.TryGetValue(beat.DonorId, out var donor) || !donor.IsServing)
                throw new WireException(ErrorCode.UnknownDonor, $"Donor {beat.DonorId} is not registered (or was declared dead); register again.");
            donor.LastHeartbeatTicks = NowTicks;
            donor.ResidentBytes = (long)beat.ResidentBytes;
            donor.Segments = (int)beat.SegmentCount;
        }
    }

    public void Deregister(DonorDeregister request) =>
        MarkDown(request.DonorId, DonorHealth.Left, string.IsNullOrEmpty(request.Reason) ? "donor left" : request.Reason);

    /// <summary>
    /// The manager keeps a connection to every donor: it carries segment control, and its loss is the
    /// quickest sign a donor died (a killed process resets its sockets at once). On loss one reconnect
    /// is tried; if that fails, the donor is declared dead without waiting for the heartbeat timeout.
    /// </summary>
    private async Task ConnectAdminAsync(DonorRecord donor)
    {
        try
        {
            var admin = await FrameClient.ConnectAsync(donor.Endpoint, _secret, PeerRole.Manager, _transport, _logger);
            FrameClient? old;
            lock (_lock)
            {
                old = donor.Admin;
                donor.Admin = admin;
            }

            if (old is not null) await old.DisposeAsync();
            admin.Closed += reason => _ = OnAdminLostAsync(donor, admin);
        }
        catch (Exception ex) when (ex is ConnectionFailedException or WireException)
        {
            MarkDown(donor.Id, DonorHealth.Dead, "manager cannot reach its data endpoint: " + ex.Message);
        }
    }

    private async Task OnAdminLostAsync(DonorRecord donor, FrameClient lost)
    {
        lock (_lock)
        {
            if (donor.Admin != lost || !donor.IsServing) return;
            donor.Admin = null;
        }

        await Task.Delay(100);
        await ConnectAdminAsync(donor);
    }

    private void MarkDown(ulong donorId, DonorHealth health, string reason)
    {
        List<LeaseRecord> lost;
        FrameClient? admin;
        DonorRecord? donor;
        lock (_lock)
        {
            if (!_donors.TryGetValue(donorId, out donor) || !donor.IsServing) return;
            donor.Health = health;
            SweepExecutors(NowUnixMs);
            admin = donor.Admin;
            donor.Admin = null;
            lost = [];
            foreach (var lease in _leases.Values.Where(l => l.LostReason is null && l.Segments.Any(s => s.DonorId == donorId)).ToList())
            {
                // Replicated: the lease lives on while every group keeps a replica; its grant drops the
                // dead ones, and clients that meet them renew and carry on with the rest.
                var survivors = lease.Segments.Where(s => s.DonorId != donorId).ToArray();
                bool whole = Enumerable.Range(0, lease.Groups).All(g => survivors.Any(s => s.Group == g));
                if (whole)
                {
                    foreach (var gone in lease.Segments.Where(s => s.DonorId == donorId)) gone.Freed = true;
                    lease.Segments = survivors;
                    ManagerLog.LeaseDegraded(_logger, lease.Id, donorId, survivors.Length, lease.Groups * lease.Replicas);
                    continue;
                }

                lease.LostReason = $"donor {donorId} ({donor.Endpoint}) {(health == DonorHealth.Dead ? "died" : "left")}: {reason}";
                lost.Add(lease);
            }
        }

        ManagerLog.DonorDown(_logger, donorId, donor.Endpoint, health.ToString().ToLowerInvariant(), reason, lost.Count);
        if (admin is not null) _ = admin.DisposeAsync().AsTask();
        foreach (var lease in lost) AnnounceLoss(lease);
        StartRebuilds();
    }

    /// <summary>Tells every holder of a lease (whose LostReason is set) that it is lost, and reclaims its surviving segments.</summary>
    private void AnnounceLoss(LeaseRecord lease)
    {
        List<FrameConnection> holders;
        lock (_lock) holders = lease.Holders.Values.Select(h => h.Connection).OfType<FrameConnection>().Distinct().ToList();
        var lostEvent = new LeaseLostEvent(lease.Id, lease.LostReason!).Encode();
        foreach (var connection in holders) _ = connection.SendEventAsync(Opcode.LeaseLostEvent, lostEvent);
        // The surviving segments of a lost lease are useless to the client: reclaim them now.
        _ = FreeSegmentsAsync(lease, survivorsOnly: true);
    }

    /// <summary>
    /// Declares silent donors dead and reclaims expired leases. Called periodically. Segment frees run
    /// in the background: a hung donor must not hold up failure detection for the others.
    /// </summary>
    public void Sweep()
    {
        long now = NowTicks;
        long nowMs = NowUnixMs;
        List<ulong> silent;
        List<LeaseRecord> expired;
        lock (_lock)
        {
            silent = _donors.Values
                .Where(d => d.IsServing && now - d.LastHeartbeatTicks > (long)_options.DonorTimeout.TotalMilliseconds)
                .Select(d => d.Id).ToList();
            // A holder that stopped renewing drops out after half a lifetime of grace (its capabilities
            // stop working at expiry, but a client that stalled briefly, say in a long GC pause, can
            // still renew and carry on); a lease with no holder left is reclaimed.
            foreach (var lease in _leases.Values)
                foreach (var holder in lease.Holders.Values.Where(h => h.ExpiresUnixMs + (long)(h.Ttl.TotalMilliseconds / 2) <= nowMs).ToList())
                    lease.Holders.Remove(holder.Id);
            expired = _leases.Values.Where(l => l.Holders.Count == 0).ToList();
            foreach (var lease in expired) Forget(lease);
            SweepExecutors(nowMs);
        }

        foreach (var id in silent) MarkDown(id, DonorHealth.Dead, $"no heartbeat for {_options.DonorTimeout.TotalSeconds:0.#} s");
        StartRebuilds();
        SaveState();
        foreach (var lease in expired)
        {
            ManagerLog.LeaseEnded(_logger, lease.Id, "expired without renewal");
            _ = FreeSegmentsAsync(lease, survivorsOnly: false);
        }
    }

    // ---- leases -------------------------------------------------------------------------------

    public async Task<LeaseGrant> RequestLeaseAsync(LeaseRequest request, FrameConnection? owner, CancellationToken cancellationToken = default)
    {
        if (request.Bytes == 0) throw new WireException(ErrorCode.InvalidArgument, "A lease must be for at least one byte.");
        if (request.Rights == Rights.None || (request.Rights & ~Rights.ReadWrite) != 0)
            throw new WireException(ErrorCode.InvalidArgument, $"Rights {request.Rights} are not valid; ask for Read, Write or both.");
        uint stripe = request.StripeSize == 0 ? (uint)_options.StripeSizeBytes : request.StripeSize;
        if (stripe < 4096 || (stripe & (stripe - 1)) != 0 || stripe > WireLimits.AbsoluteMaxFrameSize)
            throw new WireException(ErrorCode.InvalidArgument, $"Stripe size {stripe} must be a power of two between 4096 and {WireLimits.AbsoluteMaxFrameSize}.");
        var ttl = request.TtlMs == 0 ? _options.LeaseTtl : TimeSpan.FromMilliseconds(request.TtlMs);
        if (ttl > _options.MaxLeaseTtl)
            throw new WireException(ErrorCode.InvalidArgument, $"A lease lifetime of {ttl} exceeds the manager's maximum of {_options.MaxLeaseTtl}.");

        int replicas = request.Replicas == 0 ? 1 : request.Replicas;
        if (replicas > 3)
            throw new WireException(ErrorCode.InvalidArgument, $"A lease has 1 to 3 replicas, not {replicas}.");
        ulong stripes = (request.Bytes + stripe - 1) / stripe;
        List<DonorRecord> candidates;
        ulong leaseId;
        lock (_lock)
        {
            candidates = _donors.Values.Where(d => d.Health == DonorHealth.Alive && d.Admin is not null)
                .OrderByDescending(d => d.Available).ToList();
            leaseId = ++_nextLeaseId;
        }

        if (candidates.Count == 0)
            throw Refuse(request.Bytes, ErrorCode.NoDonors, "No donor is alive; start one with `remotemem donor --manager HOST:PORT`.");
        int wanted = request.StripeCount != 0 ? request.StripeCount : Math.Min(_options.DefaultStripeCount, candidates.Count);
        if (wanted > candidates.Count)
            throw Refuse(request.Bytes, ErrorCode.InsufficientCapacity, $"Asked to stripe over {wanted} donors, but only {candidates.Count} are alive.");
        int count = (int)Math.Min((ulong)wanted, stripes);
        if (replicas > 1 && candidates.Select(d => d.Node).Distinct().Count() < replicas)
            throw Refuse(request.Bytes, ErrorCode.InsufficientCapacity,
                $"{replicas} replicas need donors on {replicas} different nodes; the alive donors are on {candidates.Select(d => d.Node).Distinct().Count()}.");
        if (count * replicas > WireLimits.MaxSegmentsPerLease)
            throw Refuse(request.Bytes, ErrorCode.InvalidArgument, $"A lease spans at most {WireLimits.MaxSegmentsPerLease} donors.");
        var lengths = StripeLayout.SegmentLengths(request.Bytes, stripe, count);

        // Place the largest groups first. Each replica of a group goes to a donor on a node the group
        // does not use yet; among those, donors holding nothing of this lease come first (its stripes
        // spread), then the roomiest. A donor that cannot hold its share (fragmentation, a race with
        // another lease) is skipped for the next candidate.
        var placed = new List<PlacedSegment>(count * replicas);
        var holding = new HashSet<ulong>();
        try
        {
            for (int k = 0; k < count; k++)
            {
                var groupNodes = new HashSet<string>();
                for (int r = 0; r < replicas; r++)
                {
                    PlacedSegment? segment = null;
                    foreach (var donor in candidates.Where(d => !groupNodes.Contains(d.Node)).OrderBy(d => holding.Contains(d.Id)).ThenByDescending(d => d.Available))
                    {
                        segment = await TryAllocateAsync(donor, leaseId, lengths[k], (ushort)k, cancellationToken);
                        if (segment is not null)
                        {
                            groupNodes.Add(donor.Node);
                            holding.Add(donor.Id);
                            break;
                        }
                    }

                    if (segment is null)
                        throw Refuse(request.Bytes, ErrorCode.InsufficientCapacity,
                            $"Not enough free memory: could place {placed.Count} of {count * replicas} segments of {ByteSize.Format((long)lengths[0])} ({replicas} replica(s) on distinct nodes); total free {ByteSize.Format(candidates.Sum(c => c.Available))} on {candidates.Count} donor(s).");
                    placed.Add(segment);
                }
            }
        }
        catch
        {
            await FreeAsync(placed);
            throw;
        }

        var lease = new LeaseRecord { Id = leaseId, Bytes = request.Bytes, StripeSize = stripe, Segments = [.. placed], Replicas = replicas, Groups = count,
            AllowSpill = (request.Flags & LeaseRequest.AllowSpill) != 0 };
        Holder creator;
        lock (_lock)
        {
            creator = lease.AddHolder(request.Rights, ttl, NowUnixMs, owner);
            _leases[leaseId] = lease;
        }

        ManagerLog.LeaseGranted(_logger, leaseId, request.Bytes, count, stripe);
        return Grant(lease, creator);
    }

    private WireException Refuse(ulong bytes, ErrorCode code, string reason)
    {
        ManagerLog.LeaseRefused(_logger, bytes, reason);
        return new WireException(code, reason);
    }

    private async Task<PlacedSegment?> TryAllocateAsync(DonorRecord donor, ulong leaseId, ulong length, ushort group, CancellationToken cancellationToken)
    {
        FrameClient? admin;
        lock (_lock)
        {
            if (donor.Health != DonorHealth.Alive || donor.Available < (long)length) return null;
            admin = donor.Admin;
            donor.LeasedBytes += (long)length; // reserve before the await, so concurrent leases see it
        }

        if (admin is not null)
        {
            try
            {
                var reply = SegmentAllocateReply.Decode(await admin.CallAsync(Opcode.SegmentAllocate, new SegmentAllocate(leaseId, length).Encode(), cancellationToken));
                return new PlacedSegment(donor.Id, donor.Endpoint, reply.SegmentId, reply.PoolOffset, length, group);
            }
            catch (Exception ex) when (ex is WireException or ConnectionFailedException)
            {
                ManagerLog.LeaseRefused(_logger, length, $"donor {donor.Id}: {ex.Message}");
            }
        }

        lock (_lock) donor.LeasedBytes -= (long)length;
        return null;
    }

    public LeaseGrant Renew(ulong leaseId, ulong holderId, FrameConnection? connection)
    {
        lock (_lock)
        {
            var (lease, holder) = Find(leaseId, holderId);
            holder.ExpiresUnixMs = NowUnixMs + (long)holder.Ttl.TotalMilliseconds;
            if (connection is not null) holder.Connection = connection;
            return Grant(lease, holder);
        }
    }

    /// <summary>Ends one holder's hold; the last one frees the lease (its segments are zeroed and reused).</summary>
    public async Task ReleaseAsync(ulong leaseId, ulong holderId)
    {
        LeaseRecord lease;
        lock (_lock)
        {
            if (!_leases.TryGetValue(leaseId, out lease!) || !lease.Holders.Remove(holderId))
                throw new WireException(ErrorCode.LeaseNotFound, $"Lease {leaseId} has no holder {holderId}.");
            if (lease.Holders.Count > 0) return;
            Forget(lease);
        }

        ManagerLog.LeaseEnded(_logger, leaseId, "released by its last holder");
        await FreeSegmentsAsync(lease, survivorsOnly: lease.LostReason is not null);
    }

    /// <summary>Makes a lease findable by name.</summary>
    public void Publish(LeasePublish request)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 256)
            throw new WireException(ErrorCode.InvalidArgument, "A published name must be 1 to 256 characters.");
        lock (_lock)
        {
            var (lease, _) = Find(request.LeaseId, request.HolderId);
            if (lease.Name is not null)
                throw new WireException(ErrorCode.InvalidArgument, $"Lease {lease.Id} is already published as '{lease.Name}'.");
            if (_names.ContainsKey(request.Name))
                throw new WireException(ErrorCode.NameExists, $"The name '{request.Name}' is already published; choose another or wait until its lease ends.");
            lease.Name = request.Name;
            lease.Metadata = request.Metadata;
            _names[request.Name] = lease;
        }
    }

    /// <summary>Adds a holder to the lease published as <paramref name="request"/>'s name.</summary>
    public LeaseOpened Open(LeaseOpen request, FrameConnection? connection)
    {
        if (request.Rights is not (Rights.Read or Rights.ReadWrite))
            throw new WireException(ErrorCode.InvalidArgument, $"Open a lease for Read or ReadWrite, not {request.Rights}.");
        var ttl = request.TtlMs == 0 ? _options.LeaseTtl : TimeSpan.FromMilliseconds(request.TtlMs);
        if (ttl > _options.MaxLeaseTtl)
            throw new WireException(ErrorCode.InvalidArgument, $"A lease lifetime of {ttl} exceeds the manager's maximum of {_options.MaxLeaseTtl}.");
        lock (_lock)
        {
            if (!_names.TryGetValue(request.Name, out var lease))
                throw new WireException(ErrorCode.NameNotFound, $"Nothing is published as '{request.Name}'.");
            if (lease.LostReason is not null)
                throw new WireException(ErrorCode.LeaseLost, $"Lease {lease.Id} ('{request.Name}') is lost: {lease.LostReason}.");
            var holder = lease.AddHolder(request.Rights, ttl, NowUnixMs, connection);
            return new LeaseOpened(lease.Metadata, Grant(lease, holder));
        }
    }

    private (LeaseRecord Lease, Holder Holder) Find(ulong leaseId, ulong holderId)
    {
        if (!_leases.TryGetValue(leaseId, out var lease))
            throw new WireException(ErrorCode.LeaseNotFound, $"Lease {leaseId} does not exist (released, or expired before renewal).");
        if (lease.LostReason is not null)
            throw new WireException(ErrorCode.LeaseLost, $"Lease {leaseId} is lost: {lease.LostReason}.");
        if (!lease.Holders.TryGetValue(holderId, out var holder))
            throw new WireException(ErrorCode.LeaseNotFound, $"Lease {leaseId} has no holder {holderId} (it expired before renewal).");
        return (lease, holder);
    }

    private void Forget(LeaseRecord lease)
    {
        _leases.Remove(lease.Id);
        if (lease.Name is not null) _names.Remove(lease.Name);
    }

    private LeaseGrant Grant(LeaseRecord lease, Holder holder)
    {
        var segments = new SegmentGrant[lease.Segments.Length];
        for (int i = 0; i < segments.Length; i++)
        {
            var s = lease.Segments[i];
            var capability = _authority.Sign(new Capability
            {
                LeaseId = lease.Id,
                DonorId = s.DonorId,
                SegmentId = s.SegmentId,
                PoolOffset = s.PoolOffset,
                Length = s.Length,
                ExpiresUnixMs = holder.ExpiresUnixMs,
                Rights = holder.Rights,
            });
            segments[i] = new SegmentGrant(s.Endpoint, capability, _donors.TryGetValue(s.DonorId, out var donor) ? donor.Fabric : null, s.Group);
        }

        lease.CapabilitiesValidUntilUnixMs = Math.Max(lease.CapabilitiesValidUntilUnixMs, holder.ExpiresUnixMs);
        return new LeaseGrant(lease.Id, holder.Id, lease.Bytes, lease.StripeSize, holder.ExpiresUnixMs, segments);
    }

    private Task FreeSegmentsAsync(LeaseRecord lease, bool survivorsOnly)
    {
        List<PlacedSegment> segments;
        lock (_lock)
        {
            segments = lease.Segments.Where(s => !survivorsOnly || SpilledTo(s) is not null || (_donors.TryGetValue(s.DonorId, out var d) && d.IsServing)).ToList();
        }

        return FreeAsync(segments, lease.CapabilitiesValidUntilUnixMs);
    }

    /// <summary>
    /// Frees segments at their donors. On a donor with a fabric, a client holding a still-valid
    /// capability could reach the memory one-sided, which the donor cannot refuse: such a segment is
    /// freed (zeroed and made reusable) only once <paramref name="reusableAfterUnixMs"/> has passed.
    /// </summary>
    private async Task FreeAsync(IEnumerable<PlacedSegment> segments, long reusableAfterUnixMs = 0)
    {
        foreach (var segment in segments)
        {
            FrameClient? admin;
            if (SpilledTo(segment) is { } file)
            {
                lock (_lock)
                {
                    if (segment.Freed) continue;
                    segment.Freed = true;
                }

                DeleteSpill(file);
                continue;
            }

            lock (_lock)
            {
                if (segment.Freed || !_donors.TryGetValue(segment.DonorId, out var donor)) continue;
                long wait = reusableAfterUnixMs - NowUnixMs;
                if (donor.Fabric is not null && wait > 0 && donor.IsServing)
                {
                    _ = FreeLaterAsync(segment, TimeSpan.FromMilliseconds(Math.Min(wait, (long)_options.MaxLeaseTtl.TotalMilliseconds) + 1000));
                    continue;
                }

                segment.Freed = true;
                donor.LeasedBytes -= (long)segment.Length;
                admin = donor.IsServing ? donor.Admin : null;
            }

            if (admin is null) continue;
            try
            {
                await admin.CallAsync(Opcode.SegmentFree, new SegmentFree(segment.SegmentId).Encode());
            }
            catch (Exception ex) when (ex is WireException or ConnectionFailedException)
            {
                ManagerLog.FreeFailed(_logger, segment.SegmentId, segment.DonorId, ex.Message);
            }
        }
    }

    private async Task FreeLaterAsync(PlacedSegment segment, TimeSpan delay)
    {
        await Task.Delay(delay, _time).ConfigureAwait(false);
        await FreeAsync([segment]).ConfigureAwait(false);
    }

    // ---- status -------------------------------------------------------------------------------

    public StatusReport Status()
    {
        long now = NowTicks;
        long nowMs = NowUnixMs;
        lock (_lock)
        {
            var donors = _donors.Values.OrderBy(d => d.Id).Select(d => new DonorStatus(
                d.Id, d.Name, d.Node, d.Endpoint, d.Health, d.OfferedBytes, d.LeasedBytes, d.ResidentBytes,
                d.Cores, d.Gpus, d.Segments, now - d.LastHeartbeatTicks, d.Job.Length == 0 ? null : d.Job,
                d.UsedCores, d.UsedGpus, _executors.Values.Count(e => e.DonorId == d.Id))).ToList();
            var leases = _leases.Values.OrderBy(l => l.Id).Select(l => new LeaseStatus(
                l.Id, (long)l.Bytes, (int)l.StripeSize, l.Segments.Select(s => s.DonorId).ToList(),
                l.ExpiresUnixMs - nowMs, l.LostReason is not null, l.LostReason, l.Name, l.Holders.Count,
                l.Replicas, l.IsDegraded, l.Rebuilding)).ToList();
            return new StatusReport(Endpoint, nowMs, donors, leases);
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<FrameClient> admins;
        lock (_lock)
        {
            admins = _donors.Values.Select(d => d.Admin).OfType<FrameClient>().ToList();
            foreach (var d in _donors.Values) d.Admin = null;
        }

        foreach (var admin in admins) await admin.DisposeAsync();
    }
}
