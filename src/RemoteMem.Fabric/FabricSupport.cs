using System.Runtime.InteropServices;
using RemoteMem.Fabric.Internal;
using RemoteMem.Fabric.Internal.Native;

namespace RemoteMem.Fabric;

/// <summary>
/// Whether the fabric transport (libfabric through libremotemem_rdma.so) can run on this machine. Probe
/// before choosing it; the managed tcp transport needs none of this.
/// </summary>
public static class FabricSupport
{
    /// <summary>
    /// Loads the shim, asks libfabric for <paramref name="provider"/> with RemoteMem's requirements (RDM
    /// endpoint, one-sided read/write, remote read/write) and opens its fabric and domain. Never throws for
    /// an environment problem: the result says what is missing and how to fix it.
    /// </summary>
    /// <param name="provider">A libfabric provider name: "tcp;ofi_rxm" or "shm" on any Linux host; "verbs;ofi_rxm", "efa", "cxi" on clusters.</param>
    public static FabricProbe Probe(string provider)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        var library = NativeLibraryResolver.Load();
        if (library.Handle == 0) return LibraryMissing(provider, library.Error);

        RmRdma.GetVersion(out int libMajor, out int libMinor, out int apiMajor, out int apiMinor);
        var version = new Version(libMajor, libMinor);
        var apiVersion = new Version(apiMajor, apiMinor);
        long? memlock = LockedMemory.CurrentLimit();
        FabricProbe Result(FabricProbeStatus status, string message, IReadOnlyList<string>? available = null) => new(provider, status, message)
        {
            LibraryPath = library.Path, LibfabricVersion = version, ApiVersion = apiVersion, LockedMemoryLimit = memlock, AvailableProviders = available ?? [],
        };

        int status = RmRdma.GetInfo(provider, null, null, 0, out var info);
        using (info)
        {
            if (status == RmRdmaConstants.StatusENoData)
            {
                var available = ProviderCatalog.Available(provider);
                string list = available.Count > 0 ? string.Join(", ", available) : "none";
                return Result(FabricProbeStatus.ProviderNotFound,
                    $"libfabric {version} has no provider \"{provider}\" with one-sided RMA (FI_EP_RDM, read/write) here. Providers with RMA on this machine: {list}. " +
                    "Check the name (fi_info -l lists what is installed; FI_PROVIDER may restrict it) or load the system's libfabric (LD_LIBRARY_PATH).",
                    available);
            }

            if (status != 0)
                return Result(FabricProbeStatus.Failed, $"fi_getinfo for \"{provider}\" failed: {RmRdma.Describe(status)} (status {status}).");

            RmRdma.InfoGetMrMode(info, out ulong mrMode);
            if (LockedMemory.IsTooLow(memlock, mrMode))
            {
                return Result(FabricProbeStatus.LockedMemoryLimitTooLow,
                    $"{provider} pins registered memory, and the locked-memory limit (RLIMIT_MEMLOCK) of this non-root user is {LockedMemory.Format(memlock!.Value)}, " +
                    $"below the {LockedMemory.Format(LockedMemory.Minimum)} needed. Raise it: ulimit -l unlimited, memlock in /etc/security/limits.conf, and under Slurm PropagateResourceLimits / the slurmd's LimitMEMLOCK.");
            }

            try
            {
                var i = info;
                using var fabric = RmRdmaHandle.Open("fi_fabric", (out FabricHandle h) => RmRdma.FabricOpen(i, out h), info);
                var f = fabric;
                using var domain = RmRdmaHandle.Open("fi_domain", (out DomainHandle h) => RmRdma.DomainOpen(f, i, out h), fabric, info);
            }
            catch (FabricException ex)
            {
                return Result(FabricProbeStatus.Failed, $"{provider} was found but could not be opened: {ex.Message}");
            }

            return Result(FabricProbeStatus.Supported, $"Fabric provider {provider} is usable: libfabric {version} (API {apiVersion}), shim {library.Path}.");
        }
    }

    internal static FabricProbe LibraryMissing(string provider, string? error)
    {
        bool fabricMissing = error?.Contains("libfabric", StringComparison.Ordinal) == true;
        string fix = fabricMissing
            ? "The shim was found but libfabric.so.1 was not: install libfabric (apt-get install libfabric1) or load the cluster's libfabric (module load libfabric / LD_LIBRARY_PATH)."
            : $"Build it: install cmake, a C compiler, pkg-config and libfabric-dev (apt-get install cmake gcc pkg-config libfabric-dev) and rebuild RemoteMem.Fabric (dotnet build), which builds native-rdma and copies {NativeLibraryResolver.FileName} beside the assembly; " +
              $"or build native-rdma yourself (cmake -S native-rdma -B native-rdma/build && cmake --build native-rdma/build) and set {NativeLibraryResolver.PathVariable} to the library's path.";
        string where = Path.GetDirectoryName(typeof(FabricSupport).Assembly.Location) ?? AppContext.BaseDirectory;
        return new FabricProbe(provider, FabricProbeStatus.LibraryNotFound,
            $"The fabric transport needs {NativeLibraryResolver.FileName}, which could not be loaded (looked in {NativeLibraryResolver.PathVariable}, {where} and the loader's path{(string.IsNullOrEmpty(error) ? "" : $": {error}")}). {fix}")
        {
            LockedMemoryLimit = LockedMemory.CurrentLimit(),
        };
    }
}
