using Microsoft.Extensions.Logging;
using RemoteMem.Wire;

namespace RemoteMem.Transport.Internal;

internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Warning, "Request {Opcode} to {Endpoint} timed out after {Seconds} s; closing the connection")]
    public static partial void RequestTimedOut(ILogger logger, string endpoint, Opcode opcode, double seconds);

    [LoggerMessage(1002, LogLevel.Warning, "A Closed handler of the connection to {Endpoint} threw")]
    public static partial void CloseHandlerFailed(ILogger logger, string endpoint, Exception exception);

    [LoggerMessage(1101, LogLevel.Debug, "Connection {ConnectionId} from {Remote} accepted")]
    public static partial void ConnectionAccepted(ILogger logger, long connectionId, string? remote);

    [LoggerMessage(1102, LogLevel.Warning, "Connection {ConnectionId} from {Remote} failed the handshake: {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, long connectionId, string? remote, string reason);

    [LoggerMessage(1103, LogLevel.Warning, "Connection {ConnectionId} from {Remote} sent an unusable frame ({Code}); closing it")]
    public static partial void FatalFrame(ILogger logger, long connectionId, string? remote, ErrorCode code);

    [LoggerMessage(1104, LogLevel.Information, "Request {Opcode} on connection {ConnectionId} from {Remote} refused: {Code} {Message}")]
    public static partial void RequestRefused(ILogger logger, long connectionId, string? remote, Opcode opcode, ErrorCode code, string message);

    [LoggerMessage(1105, LogLevel.Error, "Handler for {Opcode} on connection {ConnectionId} failed")]
    public static partial void HandlerFailed(ILogger logger, long connectionId, Opcode opcode, Exception exception);

    [LoggerMessage(1106, LogLevel.Debug, "Connection {ConnectionId} from {Remote} closed")]
    public static partial void ConnectionClosed(ILogger logger, long connectionId, string? remote);
}
