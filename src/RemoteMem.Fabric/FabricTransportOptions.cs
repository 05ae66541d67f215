namespace RemoteMem.Fabric;

/// <summary>Settings of a process's fabric endpoint (client or donor).</summary>
public sealed class FabricTransportOptions
{
    /// <summary>libfabric provider: "tcp;ofi_rxm" (any network), "shm" (same node), "verbs;ofi_rxm", "efa", "cxi".</summary>
    public string Provider { get; set; } = "tcp;ofi_rxm";

    /// <summary>The local address the endpoint binds to (tcp providers); null lets the provider choose. Ignored by providers that are not addressed by IP (shm).</summary>
    public string? LocalAddress { get; set; }

    /// <summary>The endpoint these options describe. Only the tcp providers bind to an IP address; shm has none.</summary>
    internal Internal.FabricEndpointOptions ToEndpointOptions(Microsoft.Extensions.Logging.ILogger? logger) => new()
    {
        Provider = Provider,
        LocalAddress = Provider.StartsWith("tcp", StringComparison.Ordinal) ? LocalAddress : null,
        ProgressMode = ProgressMode,
        OperationTimeout = OperationTimeout,
        Logger = logger,
    };

    /// <summary>Blocking progress waits on the completion queue (no CPU burned); spinning polls it (lower latency, one core busy).</summary>
    public FabricProgressMode ProgressMode { get; set; } = FabricProgressMode.Blocking;

    /// <summary>How long one read or write may take before it fails with a timeout.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
