using RemoteMem.Transport;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Services.Manager.Internal;

/// <summary>The manager's view of one donor. Guarded by the manager's lock.</summary>
internal sealed class DonorRecord
{
    public required ulong Id { get; init; }
    public required string Name { get; set; }
    public required string Node { get; set; }
    public required string Endpoint { get; set; }
    public required long OfferedBytes { get; set; }
    public int Cores { get; set; }
    public int Gpus { get; set; }

    /// <summary>Cores and GPUs held by executor leases.</summary>
    public int UsedCores { get; set; }
    public int UsedGpus { get; set; }

    public int FreeCores => Cores - UsedCores;
    public int FreeGpus => Gpus - UsedGpus;

    /// <summary>The batch job the donor runs in (a Slurm job or step id), empty outside one.</summary>
    public string Job { get; set; } = "";

    /// <summary>Where clients reach the donor's pool one-sided, when it opened a fabric; null for TCP only.</summary>
    public FabricAddress? Fabric { get; set; }
    public DonorHealth Health { get; set; } = DonorHealth.Alive;
    public long LastHeartbeatTicks { get; set; }
    public long LeasedBytes { get; set; }
    public long ResidentBytes { get; set; }
    public int Segments { get; set; }

    /// <summary>The manager's own connection to the donor, for segment control; also its fastest failure detector.</summary>
    public FrameClient? Admin { get; set; }

    public long Available => OfferedBytes - LeasedBytes;

    /// <summary>How messages name the donor: "donor 3 (host:port, batch job 1234.0)".</summary>
    public string Describe() => Job.Length == 0 ? $"donor {Id} ({Endpoint})" : $"donor {Id} ({Endpoint}, batch job {Job})";

    /// <summary>Still serving its segments: alive, or draining (serving while they move away).</summary>
    public bool IsServing => Health is DonorHealth.Alive or DonorHealth.Draining;
}
