using RemoteMem.Fabric;
using RemoteMem.Fabric.Internal;

namespace RemoteMem.Tests.Fabric;

/// <summary>Shared settings of the fabric tests, and the check that the native shim is really there.</summary>
internal static class FabricTestEnvironment
{
    public const string Tcp = "tcp;ofi_rxm";
    public const string Shm = "shm";

    /// <summary>
    /// Fails (never skips) when libremotemem_rdma.so is missing: CI must build it. The build skips the shim
    /// with only a message when cmake or libfabric-dev is absent, so this is where that shows up.
    /// </summary>
    public static void RequireLibrary()
    {
        var probe = FabricSupport.Probe(Tcp);
        if (probe.Status == FabricProbeStatus.LibraryNotFound)
            Assert.Fail($"The fabric tests need the native shim. Install cmake, gcc, pkg-config and libfabric-dev (apt-get install cmake gcc pkg-config libfabric-dev) and rebuild. {probe.Message}");
    }

    public static FabricEndpointOptions Options(string provider, TimeSpan? timeout = null, FabricProgressMode mode = FabricProgressMode.Blocking, int maxInFlight = 256) => new()
    {
        Provider = provider,
        // tcp would otherwise bind to the first interface; loopback keeps the test on this machine.
        LocalAddress = provider.StartsWith("tcp", StringComparison.Ordinal) ? "127.0.0.1" : null,
        OperationTimeout = timeout ?? TimeSpan.FromSeconds(20),
        ProgressMode = mode,
        MaxInFlight = maxInFlight,
    };
}
