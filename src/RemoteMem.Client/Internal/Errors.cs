using RemoteMem.Transport;
using RemoteMem.Wire;

namespace RemoteMem.Client.Internal;

/// <summary>Turns transport and protocol errors into the client's documented exception types, in one place.</summary>
internal static class Errors
{
    public static Exception FromWire(WireException ex, ulong leaseId = 0) => ex.Code switch
    {
        ErrorCode.LeaseLost or ErrorCode.LeaseNotFound => new LeaseLostException(leaseId, $"Lease {leaseId}: {ex.Message}", ex),
        ErrorCode.CapabilityInvalid or ErrorCode.CapabilityExpired or ErrorCode.CapabilityRevoked or ErrorCode.RightsDenied
            => new CapabilityRefusedException(ex.Code, ex.Message, ex),
        ErrorCode.InsufficientCapacity or ErrorCode.NoDonors => new InsufficientCapacityException(ex.Code, ex.Message, ex),
        _ => new RemoteMemException(ex.Code, ex.Message, ex),
    };

    /// <summary>A failure of the path to a donor (connection lost, a fabric error, no answer in time): worth asking the manager, then retrying.</summary>
    public static bool IsConnectionFailure(Exception ex) => ex is ConnectionFailedException or IOException or TimeoutException;
}
