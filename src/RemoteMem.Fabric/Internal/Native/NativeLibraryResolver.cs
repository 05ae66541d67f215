using System.Reflection;
using System.Runtime.InteropServices;

namespace RemoteMem.Fabric.Internal.Native;

/// <summary>
/// Finds libremotemem_rdma.so: an explicit path in REMOTEMEM_RDMA_LIBRARY first (a cluster's own build),
/// then beside this assembly (where the build copies it), then the loader's default search (LD_LIBRARY_PATH,
/// system paths). Registered once, before the first call into the shim.
/// </summary>
internal static class NativeLibraryResolver
{
    public const string FileName = "libremotemem_rdma.so";
    public const string PathVariable = "REMOTEMEM_RDMA_LIBRARY";

    private static readonly object Gate = new();
    private static bool _registered;
    private static LoadResult? _result;

    public sealed record LoadResult(nint Handle, string? Path, string? Error);

    public static void Register()
    {
        lock (Gate)
        {
            if (_registered) return;
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, Resolve);
            _registered = true;
        }
    }

    /// <summary>Loads the library once; the result (handle or the loader's error text) is remembered.</summary>
    public static LoadResult Load()
    {
        lock (Gate)
        {
            return _result ??= TryLoad();
        }
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != RmRdma.Library) return 0;
        return Load().Handle; // 0: the runtime reports DllNotFoundException itself
    }

    private static LoadResult TryLoad()
    {
        var errors = new List<string>();
        foreach (var candidate in Candidates())
        {
            try
            {
                return new LoadResult(NativeLibrary.Load(candidate), candidate, null);
            }
            catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
            {
                // The message carries dlerror's text, e.g. a missing libfabric.so.1 behind an existing shim.
                errors.Add($"{candidate}: {ex.Message}");
            }
        }

        return new LoadResult(0, null, string.Join("; ", errors));
    }

    private static IEnumerable<string> Candidates()
    {
        var explicitPath = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(explicitPath)) yield return explicitPath;
        var beside = Path.GetDirectoryName(typeof(NativeLibraryResolver).Assembly.Location);
        if (string.IsNullOrEmpty(beside)) beside = AppContext.BaseDirectory;
        var local = Path.Combine(beside, FileName);
        if (File.Exists(local)) yield return local;
        yield return FileName; // dlopen's own search
    }
}
