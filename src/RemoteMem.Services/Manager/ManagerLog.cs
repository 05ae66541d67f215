using Microsoft.Extensions.Logging;

namespace RemoteMem.Services.Manager;

internal static partial class ManagerLog
{
    [LoggerMessage(3001, LogLevel.Information, "Donor {DonorId} ({Name}) registered: {Endpoint}, {Offered} bytes, {Cores} cores")]
    public static partial void DonorRegistered(ILogger logger, ulong donorId, string name, string endpoint, long offered, int cores);

    [LoggerMessage(3002, LogLevel.Warning, "Donor {DonorId} ({Endpoint}) declared {Health}: {Reason}; {Leases} lease(s) lost")]
    public static partial void DonorDown(ILogger logger, ulong donorId, string endpoint, string health, string reason, int leases);

    [LoggerMessage(3003, LogLevel.Information, "Lease {LeaseId} granted: {Bytes} bytes over {Segments} donor(s), stripe {Stripe}")]
    public static partial void LeaseGranted(ILogger logger, ulong leaseId, ulong bytes, int segments, uint stripe);

    [LoggerMessage(3004, LogLevel.Information, "Lease {LeaseId} {Why}; its segments are being reclaimed")]
    public static partial void LeaseEnded(ILogger logger, ulong leaseId, string why);

    [LoggerMessage(3005, LogLevel.Warning, "Could not free segment {SegmentId} on donor {DonorId}: {Reason}")]
    public static partial void FreeFailed(ILogger logger, ulong segmentId, ulong donorId, string reason);

    [LoggerMessage(3006, LogLevel.Information, "Manager listening on {Endpoint}")]
    public static partial void Listening(ILogger logger, string endpoint);

    [LoggerMessage(3007, LogLevel.Warning, "Lease request for {Bytes} bytes refused: {Reason}")]
    public static partial void LeaseRefused(ILogger logger, ulong bytes, string reason);

    [LoggerMessage(3008, LogLevel.Information, "Donor {DonorId} ({Endpoint}) draining: moving {Segments} segment(s) within {GraceMs} ms")]
    public static partial void DonorDraining(ILogger logger, ulong donorId, string endpoint, int segments, uint graceMs);

    [LoggerMessage(3009, LogLevel.Information, "Donor {DonorId} drained: {Moved} segment(s) moved, {Lost} lost")]
    public static partial void DonorDrained(ILogger logger, ulong donorId, uint moved, uint lost);

    [LoggerMessage(3010, LogLevel.Information, "Lease {LeaseId}: segment {SegmentId} moved from donor {From} to donor {To}")]
    public static partial void SegmentMoved(ILogger logger, ulong leaseId, ulong segmentId, ulong from, ulong to);

    [LoggerMessage(3011, LogLevel.Warning, "Lease {LeaseId} lost its replica(s) on donor {DonorId}; {Left} of {Wanted} segments remain, every group still has a copy")]
    public static partial void LeaseDegraded(ILogger logger, ulong leaseId, ulong donorId, int left, int wanted);

    [LoggerMessage(3012, LogLevel.Information, "Lease {LeaseId}: group {Group} rebuilt with {Copies} new copies on donors {Donors}")]
    public static partial void Rebuilt(ILogger logger, ulong leaseId, int group, int copies, string donors);

    [LoggerMessage(3013, LogLevel.Warning, "Lease {LeaseId}: rebuild not done: {Reason}")]
    public static partial void RebuildFailed(ILogger logger, ulong leaseId, string reason);

    [LoggerMessage(3014, LogLevel.Information, "State restored from {Path}: {Donors} donor(s), {Leases} lease(s)")]
    public static partial void StateRestored(ILogger logger, string path, int donors, int leases);

    [LoggerMessage(3015, LogLevel.Error, "Could not write the state file {Path}: {Reason}; retrying on the next sweep")]
    public static partial void StateNotSaved(ILogger logger, string path, string reason);

    [LoggerMessage(3016, LogLevel.Warning, "Lease {LeaseId}: segment {SegmentId} spilled to {Path} (no donor had room)")]
    public static partial void Spilled(ILogger logger, ulong leaseId, ulong segmentId, string path);

    [LoggerMessage(3017, LogLevel.Warning, "Lease {LeaseId}: spill to {Path} failed: {Reason}")]
    public static partial void SpillFailed(ILogger logger, ulong leaseId, string path, string reason);

    [LoggerMessage(3040, LogLevel.Information, "Executor lease {LeaseId} placed on donor {DonorId}: {Cores} core(s), {Gpus} GPU(s)")]
    public static partial void ExecutorLeased(ILogger logger, ulong leaseId, ulong donorId, int cores, int gpus);

    [LoggerMessage(3041, LogLevel.Information, "Executor lease {LeaseId} ended: {Reason}")]
    public static partial void ExecutorEnded(ILogger logger, ulong leaseId, string reason);
}
