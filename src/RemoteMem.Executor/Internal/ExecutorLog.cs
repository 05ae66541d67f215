using Microsoft.Extensions.Logging;

namespace RemoteMem.Executor.Internal;

internal static partial class ExecutorLog
{
    [LoggerMessage(7001, LogLevel.Information, "Executor of lease {LeaseId} ready on {Endpoint}: {Functions} function(s), {Cores} worker(s), hot timeout {HotTimeoutMs} ms")]
    public static partial void Ready(ILogger logger, ulong leaseId, string endpoint, int functions, int cores, int hotTimeoutMs);

    [LoggerMessage(7002, LogLevel.Warning, "No CUDA or OpenCL device found; GPU tasks run on ILGPU's CPU accelerator ({Device})")]
    public static partial void CpuAccelerator(ILogger logger, string device);

    [LoggerMessage(7003, LogLevel.Information, "Accelerator ready: {Device}")]
    public static partial void AcceleratorReady(ILogger logger, string device);

    [LoggerMessage(7004, LogLevel.Warning, "Connection refused: {Reason}")]
    public static partial void ConnectionRefused(ILogger logger, string reason);

    [LoggerMessage(7005, LogLevel.Information, "Executor of lease {LeaseId} stopping: {Reason}")]
    public static partial void Stopping(ILogger logger, ulong leaseId, string reason);

    [LoggerMessage(7006, LogLevel.Warning, "Connection {Connection} closed on a bad frame: {Reason}")]
    public static partial void BadFrame(ILogger logger, int connection, string reason);

    [LoggerMessage(7007, LogLevel.Information, "Package unloaded: {Unloaded}")]
    public static partial void Unloaded(ILogger logger, bool unloaded);
}
