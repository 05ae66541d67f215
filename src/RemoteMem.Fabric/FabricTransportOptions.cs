namespace RemoteMem.Fabric;

/// <summary>Settings of a process's fabric endpoint (client or donor).</summary>
public sealed class FabricTransportOptions
{
    /// <summary>libfabric provider: "tcp;ofi_rxm" (any network), "shm" (same node), "verbs;ofi_rxm", "efa", "cxi".</summary>
    public string Provider { get; set; } = "tcp;ofi_rxm";

    /// <summary>The local address the endpoint binds to (tcp providers); null lets the provider choose. Ignored by providers that are not addressed by IP (shm).</summary>
    public string? LocalAddress { get; set; }

    /// <summary><see cref="LocalAddress"/> where the provider takes one: only the tcp providers bind to an IP address here.</summary>
    internal string? EffectiveLocalAddress => Provider.StartsWith("tcp", StringComparison.Ordinal) ? LocalAddress : null;

    /// <summary>Blocking progress waits on the completion queue (no CPU burned); spinning polls it (lower latency, one core busy).</summary>
    public FabricProgressMode ProgressMode { get; set; } = FabricProgressMode.Blocking;

    /// <summary>How long one read or write may take before it fails with a timeout.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
