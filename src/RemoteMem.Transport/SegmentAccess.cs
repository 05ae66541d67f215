using RemoteMem.Transport.Internal;
using RemoteMem.Wire;

namespace RemoteMem.Transport;

/// <summary>
/// The checks a donor makes on a request, for paths where no donor sees the request: one-sided fabric
/// access and spilled segments read from files. The capability must be unexpired, grant the rights
/// the request needs, and cover every range.
/// </summary>
public static class SegmentAccess
{
    public static void Check(SegmentTarget target, ReadOnlySpan<IoOp> ops, bool write)
    {
        var capability = target.Capability;
        if (capability.ExpiresUnixMs <= ExpiryClock.UnixMilliseconds)
            throw new WireException(ErrorCode.CapabilityExpired, $"capability of lease {capability.LeaseId} expired");
        var needed = write ? Rights.Write : Rights.Read;
        if ((capability.Rights & needed) != needed)
            throw new WireException(ErrorCode.RightsDenied, $"capability grants {capability.Rights}, request needs {needed}");
        foreach (var op in ops)
        {
            if (op.RemoteOffset < 0 || op.Length < 0 || (ulong)op.RemoteOffset + (ulong)op.Length > capability.Length)
                throw new WireException(ErrorCode.OutOfRange, $"range [{op.RemoteOffset}, +{op.Length}) is outside the segment's {capability.Length} bytes");
        }
    }
}
