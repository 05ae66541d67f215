using Microsoft.Extensions.Logging;
using RemoteMem.Wire;

namespace RemoteMem.Services.Donor;

internal static partial class DonorLog
{
    [LoggerMessage(2001, LogLevel.Debug, "Segment {SegmentId} of lease {LeaseId} allocated at pool offset {Offset}, {Length} bytes")]
    public static partial void SegmentAllocated(ILogger logger, ulong segmentId, ulong leaseId, long offset, long length);

    [LoggerMessage(2002, LogLevel.Debug, "Segment {SegmentId} of lease {LeaseId} freed and zeroed")]
    public static partial void SegmentFreed(ILogger logger, ulong segmentId, ulong leaseId);

    [LoggerMessage(2003, LogLevel.Warning, "Refused {Opcode} from {Remote}: {Code}, {Reason}")]
    public static partial void Refused(ILogger logger, Opcode opcode, string? remote, ErrorCode code, string? reason);

    [LoggerMessage(2004, LogLevel.Information, "Donor serving {Offered} on {Endpoint}")]
    public static partial void Listening(ILogger logger, string offered, string endpoint);

    [LoggerMessage(2005, LogLevel.Information, "Registered with manager {Manager} as donor {DonorId}")]
    public static partial void Registered(ILogger logger, string manager, ulong donorId);

    [LoggerMessage(2006, LogLevel.Warning, "Lost the manager {Manager}: {Reason}; retrying")]
    public static partial void ManagerUnreachable(ILogger logger, string manager, string reason);

    [LoggerMessage(2007, LogLevel.Information, "Donor stopping: finishing in-flight requests, then leaving the cluster")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(2009, LogLevel.Information, "Segment {SegmentId} copied to {Target}")]
    public static partial void SegmentMoved(ILogger logger, ulong segmentId, string target);

    [LoggerMessage(2010, LogLevel.Warning, "Moving segment {SegmentId} to {Target} failed: {Reason}")]
    public static partial void MoveFailed(ILogger logger, ulong segmentId, string target, string reason);

    [LoggerMessage(2011, LogLevel.Information, "Draining: {Moved} segment(s) moved to other donors, {Lost} lost")]
    public static partial void Drained(ILogger logger, uint moved, uint lost);

    [LoggerMessage(2012, LogLevel.Warning, "Drain did not finish: {Reason}")]
    public static partial void DrainFailed(ILogger logger, string reason);

    [LoggerMessage(2013, LogLevel.Information, "Fabric data path open: {Provider}, the whole pool of {Pool} registered once")]
    public static partial void FabricOpen(ILogger logger, string provider, string pool);

    [LoggerMessage(2008, LogLevel.Critical, "No manager to register with: {Reason}")]
    public static partial void NoManager(ILogger logger, string reason);

    [LoggerMessage(2014, LogLevel.Information, "executor {LeaseId}: {Line}")]
    public static partial void ExecutorOutput(ILogger logger, ulong leaseId, string line);

    [LoggerMessage(2015, LogLevel.Information, "Executor lease {LeaseId} started: pid {Pid}, {Cores} core(s), {Gpus} GPU(s), on {Endpoint}")]
    public static partial void ExecutorStarted(ILogger logger, ulong leaseId, int pid, int cores, int gpus, string endpoint);

    [LoggerMessage(2016, LogLevel.Information, "Executor lease {LeaseId} ended: {Reason}")]
    public static partial void ExecutorEnded(ILogger logger, ulong leaseId, string reason);

    [LoggerMessage(2017, LogLevel.Information, "Function package {Hash} stored in {Folder}")]
    public static partial void PackageStored(ILogger logger, string hash, string folder);
}
