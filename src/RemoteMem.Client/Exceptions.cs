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
