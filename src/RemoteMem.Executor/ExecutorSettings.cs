namespace RemoteMem.Executor;

/// <summary>
/// How the donor starts an executor (the arguments of `remotemem executor`). The lease key and the
/// near-data segments come on standard input (<see cref="ExecutorBootstrap"/>), not on the command line,
/// where other users of the node could read them.
/// </summary>
public sealed class ExecutorSettings
{
    public ulong LeaseId { get; init; }

    /// <summary>Worker threads: one per leased core.</summary>
    public int Cores { get; init; } = 1;

    public int Gpus { get; init; }

    /// <summary>The extracted package: a folder with <c>entry.txt</c> naming the assembly to load.</summary>
    public required string PackageDirectory { get; init; }

    /// <summary>Address to listen on (port 0: any free port).</summary>
    public string Listen { get; init; } = "127.0.0.1:0";

    /// <summary>The host name clients should connect to (defaults to the listen address).</summary>
    public string? Advertise { get; init; }

    /// <summary>Idle milliseconds before a hot worker goes warm: -1 always hot, 0 always warm.</summary>
    public int HotTimeoutMs { get; init; } = 100;

    /// <summary>The donor's pool, inherited as a file descriptor (-1: none), for near-data access.</summary>
    public int PoolFd { get; init; } = -1;

    public long PoolLength { get; init; }

    /// <summary>How long to wait for the first client connection before giving up.</summary>
    public TimeSpan FirstConnectionTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
