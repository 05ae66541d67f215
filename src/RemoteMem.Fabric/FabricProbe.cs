namespace RemoteMem.Fabric;

/// <summary>
/// The outcome of <see cref="FabricSupport.Probe(string)"/>: whether the fabric transport can run here with
/// one provider, and if not, why and what to do about it. Never throws; print <see cref="Message"/>.
/// </summary>
public sealed class FabricProbe
{
    internal FabricProbe(string provider, FabricProbeStatus status, string message)
    {
        Provider = provider;
        Status = status;
        Message = message;
    }

    /// <summary>The provider asked for, e.g. "tcp;ofi_rxm", "shm", "verbs;ofi_rxm", "cxi".</summary>
    public string Provider { get; }

    /// <summary>True when <see cref="Status"/> is <see cref="FabricProbeStatus.Supported"/>.</summary>
    public bool IsSupported => Status == FabricProbeStatus.Supported;

    public FabricProbeStatus Status { get; }

    /// <summary>One line for a person: what was found, or what is missing and how to fix it.</summary>
    public string Message { get; }

    /// <summary>Where the shim was loaded from; null when it was not found.</summary>
    public string? LibraryPath { get; init; }

    /// <summary>The loaded libfabric's version (fi_version); null when the shim did not load.</summary>
    public Version? LibfabricVersion { get; init; }

    /// <summary>The libfabric API version the shim requests from fi_getinfo.</summary>
    public Version? ApiVersion { get; init; }

    /// <summary>Providers with RMA found here, filled when <see cref="Provider"/> was not among them.</summary>
    public IReadOnlyList<string> AvailableProviders { get; init; } = [];

    /// <summary>RLIMIT_MEMLOCK in bytes for a non-root user; null when unlimited or running as root.</summary>
    public long? LockedMemoryLimit { get; init; }

    public override string ToString() => Message;
}
