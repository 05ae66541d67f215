using RemoteMem.Services.Manager.Internal;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Services.Manager;

/// <summary>
/// Executor leases: the manager places them on donors with free cores (and GPUs), signs the ticket the
/// client starts the executor with, and counts the cores busy until the donor says the executor ended,
/// the donor goes away, or the lease expires.
/// </summary>
public sealed partial class ManagerCore
{
    private readonly Dictionary<ulong, ExecutorLeaseRecord> _executors = [];

    public ExecutorGrant LeaseExecutor(ExecutorLeaseRequest request)
    {
        if (request.Cores == 0) throw new WireException(ErrorCode.InvalidArgument, "An executor lease needs at least one core.");
        var duration = request.DurationMs == 0 ? _options.ExecutorLeaseDuration : TimeSpan.FromMilliseconds(request.DurationMs);
        if (duration > _options.MaxLeaseTtl && request.DurationMs != 0)
            throw new WireException(ErrorCode.InvalidArgument, $"An executor lease of {duration} exceeds the manager's maximum of {_options.MaxLeaseTtl}.");
        lock (_lock)
        {
            var fits = _donors.Values.Where(d => d.Health == DonorHealth.Alive && d.FreeCores >= request.Cores && d.FreeGpus >= request.Gpus).ToList();
            if (fits.Count == 0)
            {
                var alive = _donors.Values.Where(d => d.Health == DonorHealth.Alive).ToList();
                throw new WireException(ErrorCode.InsufficientCapacity, alive.Count == 0
                    ? "No donors are registered to run executors."
                    : $"No donor has {request.Cores} free core(s) and {request.Gpus} free GPU(s) (most free: {alive.Max(d => d.FreeCores)} core(s), {alive.Max(d => d.FreeGpus)} GPU(s)).");
            }

            // Near-data leases go where the data is when it fits there; otherwise the least busy donor.
            var donor = fits.FirstOrDefault(d => d.Id == request.PreferDonorId) ?? fits.OrderByDescending(d => d.FreeCores).ThenBy(d => d.Id).First();
            var ticket = new ExecutorTicket(++_nextLeaseId, donor.Id, request.Cores, request.Gpus, request.MemoryLimitBytes, NowUnixMs + (long)duration.TotalMilliseconds);
            donor.UsedCores += request.Cores;
            donor.UsedGpus += request.Gpus;
            _executors[ticket.LeaseId] = new ExecutorLeaseRecord(ticket.LeaseId, donor.Id, request.Cores, request.Gpus, ticket.ExpiresUnixMs);
            var signed = _authority.Sign(ticket);
            ManagerLog.ExecutorLeased(_logger, ticket.LeaseId, donor.Id, request.Cores, request.Gpus);
            return new ExecutorGrant(ticket.LeaseId, donor.Id, donor.Endpoint, signed, _authority.ExecutorKey(signed));
        }
    }

    /// <summary>The donor reports that an executor has ended: its cores are free.</summary>
    public void ExecutorEnded(ExecutorEnded ended)
    {
        lock (_lock)
        {
            if (_executors.TryGetValue(ended.LeaseId, out var lease) && lease.DonorId == ended.DonorId) ForgetExecutor(lease);
        }

        ManagerLog.ExecutorEnded(_logger, ended.LeaseId, ended.Reason);
    }

    /// <summary>Executor leases past their expiry, or on a donor that is gone. Caller holds the lock.</summary>
    private void SweepExecutors(long nowUnixMs)
    {
        foreach (var lease in _executors.Values.ToList())
        {
            bool donorGone = !_donors.TryGetValue(lease.DonorId, out var donor) || !donor.IsServing;
            if (donorGone || lease.ExpiresUnixMs + 5000 <= nowUnixMs) ForgetExecutor(lease);
        }
    }

    private void ForgetExecutor(ExecutorLeaseRecord lease)
    {
        _executors.Remove(lease.LeaseId);
        if (_donors.TryGetValue(lease.DonorId, out var donor))
        {
            donor.UsedCores = Math.Max(0, donor.UsedCores - lease.Cores);
            donor.UsedGpus = Math.Max(0, donor.UsedGpus - lease.Gpus);
        }
    }
}
