namespace RemoteMem.Fabric;

/// <summary>
/// How an endpoint's progress thread waits for completions. tcp;ofi_rxm and shm have manual data progress:
/// the target of reads and writes (a donor) must keep driving its completion queue or remote operations
/// hang, so every endpoint runs one progress thread.
/// </summary>
public enum FabricProgressMode
{
    /// <summary>
    /// Sleeps in the provider's wait object (tcp: an fd, ~33 µs per operation here) or, where the provider's
    /// wait is unusable (shm), in a yield-then-nanosleep poll. The default: two spinning processes take both
    /// cores of a small node.
    /// </summary>
    Blocking,

    /// <summary>Polls the completion queue continuously: lowest latency (~11 µs here), one core busy.</summary>
    Spinning,
}
