namespace RemoteMem.Fabric;

/// <summary>Why the fabric transport can or cannot run here (see <see cref="FabricProbe.Message"/> for the fix).</summary>
public enum FabricProbeStatus
{
    /// <summary>The shim loads and the provider offers one-sided RMA.</summary>
    Supported,

    /// <summary>libremotemem_rdma.so (or the libfabric.so.1 it needs) could not be loaded.</summary>
    LibraryNotFound,

    /// <summary>fi_getinfo found no provider of that name with RMA (FI_EP_RDM, read/write, remote read/write).</summary>
    ProviderNotFound,

    /// <summary>The provider pins registered memory and RLIMIT_MEMLOCK of this non-root user is too low.</summary>
    LockedMemoryLimitTooLow,

    /// <summary>Opening the provider failed for another reason (see the message).</summary>
    Failed,
}
