using Microsoft.Extensions.Logging;

namespace RemoteMem.Fabric.Internal;

internal static partial class Log
{
    [LoggerMessage(6001, LogLevel.Debug, "Fabric endpoint opened: provider {Provider}, mr_mode 0x{MrMode:x}, progress {Progress}, CQ wait {WaitKind}, name {NameLength} bytes")]
    public static partial void Opened(ILogger logger, string provider, ulong mrMode, FabricProgressMode progress, string waitKind, int nameLength);

    [LoggerMessage(6002, LogLevel.Warning, "Fabric provider {Provider} reported a completion error it could not attribute to an operation (context 0x{Context:x}): {Message} (err {Error}); the operation will time out")]
    public static partial void UnattributedError(ILogger logger, string provider, nint context, string message, int error);

    [LoggerMessage(6003, LogLevel.Debug, "Fabric provider {Provider} delivered a completion for an unknown context 0x{Context:x}; ignored")]
    public static partial void UnknownCompletion(ILogger logger, string provider, nint context);

    [LoggerMessage(6004, LogLevel.Error, "Reading the {Provider} completion queue failed: {Message} (status {Status})")]
    public static partial void ProgressFailed(ILogger logger, string provider, string message, int status);

    [LoggerMessage(6005, LogLevel.Warning, "{Operation} over {Provider} timed out after {Seconds} s; its context is quarantined")]
    public static partial void TimedOut(ILogger logger, string provider, string operation, double seconds);

    [LoggerMessage(6006, LogLevel.Information, "Fabric endpoint over {Provider} rebuilt (generation {Generation}): new CQ, AV and endpoint, {Peers} peers re-inserted")]
    public static partial void Rebuilt(ILogger logger, string provider, int generation, int peers);

    [LoggerMessage(6007, LogLevel.Warning, "The {Provider} endpoint was still held {Seconds} s after its close; failing its operations anyway")]
    public static partial void CloseStalled(ILogger logger, string provider, double seconds);

    [LoggerMessage(6008, LogLevel.Error, "The {Provider} progress thread failed")]
    public static partial void ProgressThreadFailed(ILogger logger, string provider, Exception exception);
}
