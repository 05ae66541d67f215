namespace RemoteMem.Client.Functions;

/// <summary>
/// How an executor lease came up, phase by phase: placement by the manager, the package check and
/// upload, the executor process's runtime start, loading the package, and connecting its workers.
/// </summary>
public sealed record ExecutorColdStart(
    TimeSpan Placement,
    TimeSpan PackageCheck,
    TimeSpan PackageUpload,
    long PackageBytesUploaded,
    TimeSpan ProcessStart,
    TimeSpan PackageLoad,
    TimeSpan Connect)
{
    public TimeSpan Total => Placement + PackageCheck + PackageUpload + ProcessStart + PackageLoad + Connect;
}

/// <summary>What an executor lease has done: invocations, how many found their worker hot or warm, and latencies seen by this client.</summary>
public sealed record ExecutorLeaseStatistics(
    ExecutorColdStart ColdStart,
    long Invocations,
    long Failed,
    ulong HotInvocations,
    ulong WarmInvocations,
    ulong DeadlinesExceeded,
    TimeSpan LatencyMean,
    TimeSpan LatencyP50,
    TimeSpan LatencyP99,
    string Accelerator);
