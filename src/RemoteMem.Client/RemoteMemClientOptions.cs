using Microsoft.Extensions.Logging;
using RemoteMem.Transport;
using RemoteMem.Wire;

namespace RemoteMem.Client;

/// <summary>Settings of a <see cref="RemoteMemClient"/>.</summary>
public sealed class RemoteMemClientOptions
{
    /// <summary>The manager's endpoint, host:port. Required.</summary>
    public string Manager { get; set; } = "";

    /// <summary>The cluster secret. When null, it is read from <see cref="SecretFile"/> or the REMOTEMEM_SECRET environment variable.</summary>
    public ClusterSecret? Secret { get; set; }

    /// <summary>Path of the cluster secret file.</summary>
    public string? SecretFile { get; set; }

    /// <summary>Time limit of one control-plane call (allocate, renew, release, status) attempt.</summary>
    public TimeSpan ControlTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries of idempotent control-plane calls (renew, release, status), with exponential backoff and jitter.</summary>
    public int ControlRetries { get; set; } = 3;

    /// <summary>
    /// How long a read or write may take in all, retries included, before it fails with
    /// <see cref="DonorUnreachableException"/> (or <see cref="LeaseLostException"/> as soon as the manager
    /// confirms the donor is gone). One request to a donor may take a third of it; a replicated lease
    /// fails over to another copy within it once the manager has declared a hung donor dead.
    /// </summary>
    public TimeSpan DataTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Requests in flight per donor connection.</summary>
    public int MaxInFlightPerDonor { get; set; } = 256;

    /// <summary>Largest frame; transfers are split to fit.</summary>
    public int MaxFrameSize { get; set; } = WireLimits.DefaultMaxFrameSize;

    /// <summary>
    /// The data plane: "tcp" (default; the managed transport, works everywhere) or "fabric" (one-sided
    /// RMA through libfabric into the donors' registered memory, for donors that offer the same
    /// <see cref="FabricProvider"/>; the others are still reached over TCP).
    /// </summary>
    public string DataTransport { get; set; } = "tcp";

    /// <summary>The libfabric provider for <see cref="DataTransport"/> "fabric": "tcp;ofi_rxm", "shm", "verbs;ofi_rxm", "efa", "cxi".</summary>
    public string FabricProvider { get; set; } = "tcp;ofi_rxm";

    /// <summary>The local address the fabric endpoint binds to (tcp providers); null: derived from the manager's address when that is loopback, else the provider's choice.</summary>
    public string? FabricLocalAddress { get; set; }

    /// <summary>
    /// How long a donor connection holds the answer of a read a scan sent ahead (a
    /// <see cref="RemoteArray{T}"/> reading large blocks in order) for the scan to claim. Any request to
    /// that donor from this client other than another read-ahead ends the hold (the scan then reads the
    /// block itself), so page misses, writes and key-value reads never wait for a scan's claim, only for
    /// the read-ahead bytes already on their way (at most <see cref="RemoteArrayOptions.DirectReadAheadBytes"/>
    /// per scan). Default 5 ms (2 ms dropped about one block in 150 on a busy 2-core node).
    /// </summary>
    public TimeSpan ReadAheadHold { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Optional logger for connection events.</summary>
    public ILogger? Logger { get; set; }

    internal ClusterSecret ResolveSecret() =>
        Secret ?? ClusterSecret.Resolve(SecretFile, null)
        ?? throw new InvalidOperationException($"No cluster secret: set RemoteMemClientOptions.Secret or SecretFile, or the {ClusterSecret.EnvironmentVariable} environment variable.");

    internal TransportOptions Transport(TimeSpan requestTimeout) => new()
    {
        MaxFrameSize = MaxFrameSize,
        MaxInFlight = MaxInFlightPerDonor,
        RequestTimeout = requestTimeout,
        ReadAheadHold = ReadAheadHold > TimeSpan.Zero
            ? (ReadAheadHold < requestTimeout ? ReadAheadHold : requestTimeout)
            : throw new ArgumentOutOfRangeException(nameof(ReadAheadHold), ReadAheadHold, "ReadAheadHold must be positive."),
        ConnectTimeout = ControlTimeout < TimeSpan.FromSeconds(5) ? ControlTimeout : TimeSpan.FromSeconds(5),
    };
}

/// <summary>How to lay out one allocation.</summary>
public sealed class AllocationOptions
{
    /// <summary>Donors to stripe over; 0 lets the manager choose (as many as useful, most free memory first).</summary>
    public int StripeCount { get; set; }

    /// <summary>Bytes per stripe (a power of two, at least 4 KiB); 0 for the manager's default (512 KiB).</summary>
    public int StripeSize { get; set; }

    /// <summary>
    /// Copies of the data on different donors (and nodes): 1 (default), 2 or 3. Writes reach every copy
    /// before they complete; reads use one; when a donor dies the others carry on without an error.
    /// </summary>
    public int Replicas { get; set; } = 1;

    /// <summary>
    /// When a donor holding this data leaves and no other donor has room, write it to the manager's
    /// spill folder (a shared file system; `remotemem manager --spill-dir`) instead of losing it. Reads
    /// and writes of spilled data go to the file: slow, but nothing is lost. Default off.
    /// </summary>
    public bool AllowSpill { get; set; }

    /// <summary>Lease lifetime between renewals; null for the manager's default. The client renews at a third of it.</summary>
    public TimeSpan? LeaseTtl { get; set; }

    /// <summary>Renew the lease automatically while the allocation is alive (default). Turn off only to let a lease lapse on purpose.</summary>
    public bool AutoRenew { get; set; } = true;
}
