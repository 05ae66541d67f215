using RemoteMem.Wire;

namespace RemoteMem.Client;

/// <summary>Base of every error RemoteMem reports. <see cref="Code"/> is the protocol's error code.</summary>
public class RemoteMemException : Exception
{
    public RemoteMemException(ErrorCode code, string message, Exception? inner = null) : base(message, inner) => Code = code;

    public ErrorCode Code { get; }
}

/// <summary>The data of an allocation is gone: a donor holding part of it died or left, or the lease expired or was released.</summary>
public sealed class LeaseLostException(ulong leaseId, string message, Exception? inner = null)
    : RemoteMemException(ErrorCode.LeaseLost, message, inner)
{
    public ulong LeaseId { get; } = leaseId;
}

/// <summary>A donor did not answer within <see cref="RemoteMemClientOptions.DataTimeout"/> and the manager has not (yet) declared it gone.</summary>
public sealed class DonorUnreachableException(string endpoint, string message, Exception? inner = null)
    : RemoteMemException(ErrorCode.Timeout, message, inner)
{
    public string Endpoint { get; } = endpoint;
}

/// <summary>The manager could not be reached or did not answer in time.</summary>
public sealed class ManagerUnreachableException(string endpoint, string message, Exception? inner = null)
    : RemoteMemException(ErrorCode.Timeout, message, inner)
{
    public string Endpoint { get; } = endpoint;
}

/// <summary>A donor refused a capability (invalid, expired, revoked, or lacking the rights asked for).</summary>
public sealed class CapabilityRefusedException(ErrorCode code, string message, Exception? inner = null)
    : RemoteMemException(code, message, inner);

/// <summary>The cluster has no room for the allocation (or no donors at all).</summary>
public sealed class InsufficientCapacityException(ErrorCode code, string message, Exception? inner = null)
    : RemoteMemException(code, message, inner);

/// <summary>Data read back failed its checksum: it is reported, never returned.</summary>
public sealed class DataCorruptedException(string message) : RemoteMemException(ErrorCode.ChecksumMismatch, message);

/// <summary>A remote function threw: <see cref="RemoteType"/> is the exception's type on the executor, the message its message.</summary>
public sealed class FunctionFailedException(string function, string remoteType, string message)
    : RemoteMemException(ErrorCode.FunctionFailed, $"Function '{function}' threw {remoteType}: {message}")
{
    public string Function { get; } = function;

    public string RemoteType { get; } = remoteType;

    public string RemoteMessage { get; } = message;
}

/// <summary>An invocation ran past its deadline (the function's cancellation token was cancelled, or it never answered).</summary>
public sealed class FunctionTimeoutException(string function, string message)
    : RemoteMemException(ErrorCode.DeadlineExceeded, message)
{
    public string Function { get; } = function;
}

/// <summary>The executor of a function lease is gone (it crashed, was killed, or its donor left): its pending calls fail with this; lease a new one.</summary>
public sealed class ExecutorLostException(ulong leaseId, string message, Exception? inner = null)
    : RemoteMemException(ErrorCode.ExecutorLost, message, inner)
{
    public ulong LeaseId { get; } = leaseId;
}
