using RemoteMem.Fabric.Internal.Native;

namespace RemoteMem.Fabric.Internal;

/// <summary>
/// RLIMIT_MEMLOCK matters only for providers that pin registered memory (verbs, efa, cxi: FI_MR_LOCAL or
/// FI_MR_ALLOCATED). Root is exempt; ordinary users on RDMA hardware often have 8 MiB or 64 KiB.
/// </summary>
internal static class LockedMemory
{
    /// <summary>Less than this cannot hold a page cache and a donor pool worth having.</summary>
    public const long Minimum = 64L << 20;

    /// <summary>This user's soft limit in bytes; null when unlimited, running as root, or unknown.</summary>
    public static long? CurrentLimit()
    {
        try
        {
            if (Libc.GetEffectiveUserId() == 0) return null;
            if (Libc.GetRLimit(Libc.RlimitMemlock, out var limit) != 0 || limit.Current == Libc.RlimInfinity) return null;
            return (long)Math.Min(limit.Current, long.MaxValue);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null; // not Linux/glibc: nothing to say
        }
    }

    public static bool ProviderPins(ulong mrMode) => (mrMode & (RmRdmaConstants.MrLocal | RmRdmaConstants.MrAllocated)) != 0;

    public static bool IsTooLow(long? limit, ulong mrMode) => limit is { } bytes && bytes < Minimum && ProviderPins(mrMode);

    public static string Format(long bytes) => bytes >= 1 << 20 ? $"{bytes >> 20} MiB" : $"{bytes >> 10} KiB";
}
