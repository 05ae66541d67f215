using System.Runtime.InteropServices;

namespace RemoteMem.Fabric.Internal.Native;

/// <summary>The two libc calls the probe needs to explain a locked-memory limit (Linux values).</summary>
internal static partial class Libc
{
    public const int RlimitMemlock = 8;
    public const ulong RlimInfinity = ulong.MaxValue;

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit")]
    public static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEffectiveUserId();
}
