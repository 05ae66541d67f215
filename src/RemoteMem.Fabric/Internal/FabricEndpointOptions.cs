using Microsoft.Extensions.Logging;

namespace RemoteMem.Fabric.Internal;

/// <summary>Settings of one <see cref="FabricEndpoint"/>.</summary>
internal sealed class FabricEndpointOptions
{
    /// <summary>libfabric provider: "tcp;ofi_rxm" or "shm" here; "verbs;ofi_rxm", "efa", "cxi" on clusters.</summary>
    public string Provider { get; set; } = "tcp;ofi_rxm";

    /// <summary>
    /// Local address to bind (fi_getinfo node with FI_SOURCE), e.g. "127.0.0.1" for a single machine or the
    /// address of the interface peers reach. Null: the provider's default (tcp binds to the first interface);
    /// shm ignores it.
    /// </summary>
    public string? LocalAddress { get; set; }

    public FabricProgressMode ProgressMode { get; set; } = FabricProgressMode.Blocking;

    /// <summary>
    /// Every operation's deadline, also bounding the wait for a free slot and -FI_EAGAIN retries. An
    /// operation that never completes (shm reports some failures without saying which operation) fails with
    /// <see cref="TimeoutException"/> after it.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Operations in flight at most; further callers wait for a slot (backpressure).</summary>
    public int MaxInFlight { get; set; } = 256;

    /// <summary>Completions the progress thread reads per call.</summary>
    public int CompletionBatch { get; set; } = 64;

    public ILogger? Logger { get; set; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Provider))
            throw new ArgumentException("Provider must name a libfabric provider, e.g. \"tcp;ofi_rxm\" or \"shm\".", nameof(Provider));
        if (OperationTimeout <= TimeSpan.Zero || OperationTimeout > TimeSpan.FromHours(1))
            throw new ArgumentOutOfRangeException(nameof(OperationTimeout), OperationTimeout, "OperationTimeout must be positive and at most an hour.");
        if (MaxInFlight is < 1 or > 65536)
            throw new ArgumentOutOfRangeException(nameof(MaxInFlight), MaxInFlight, "MaxInFlight must be between 1 and 65536.");
        if (CompletionBatch is < 1 or > 4096)
            throw new ArgumentOutOfRangeException(nameof(CompletionBatch), CompletionBatch, "CompletionBatch must be between 1 and 4096.");
        if (!Enum.IsDefined(ProgressMode))
            throw new ArgumentOutOfRangeException(nameof(ProgressMode), ProgressMode, "Unknown progress mode.");
    }
}
