using Microsoft.Extensions.Options;
using RemoteMem.Transport;
using RemoteMem.Wire;

namespace RemoteMem.Services.Donor;

/// <summary>Donor settings (configuration section "Donor"; command-line options of `remotemem donor`).</summary>
public sealed class DonorOptions
{
    public const string Section = "Donor";

    /// <summary>The manager's endpoint, host:port. Required unless <see cref="ManagerFile"/> is set.</summary>
    public string? Manager { get; set; }

    /// <summary>
    /// A file holding the manager's endpoint (written by `remotemem manager --address-file`, typically in a
    /// shared folder); the donor waits up to <see cref="ManagerFileWait"/> for it to appear. Used when
    /// <see cref="Manager"/> is not set.
    /// </summary>
    public string? ManagerFile { get; set; }

    /// <summary>How long to wait for <see cref="ManagerFile"/> to appear.</summary>
    public TimeSpan ManagerFileWait { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The batch job this donor runs in, for status displays; defaults to the Slurm job (and step) from the environment.</summary>
    public string? Job { get; set; }

    /// <summary>Where to listen for clients and the manager: host:port (port 0 picks a free one).</summary>
    public string Listen { get; set; } = "0.0.0.0:7601";

    /// <summary>The endpoint clients should use; defaults to the listen address, or this host's name when listening on all interfaces.</summary>
    public string? Advertise { get; set; }

    /// <summary>Memory to donate, with units: "16GiB". Committed only as it is leased and written.</summary>
    public string Memory { get; set; } = "1GiB";

    /// <summary>Cores offered for functions; 0 means all of this node's.</summary>
    public int Cores { get; set; }

    /// <summary>GPUs offered for functions (a lease that asks for one gets ILGPU's best device: CUDA, OpenCL, or its CPU accelerator).</summary>
    public int Gpus { get; set; }

    /// <summary>Where function packages are kept by hash; defaults to a folder in the temp directory shared by this user's donors on the node.</summary>
    public string? PackageDirectory { get; set; }

    /// <summary>The command that runs `remotemem` (its `executor` subcommand is appended); defaults to the remotemem next to the donor.</summary>
    public string? ExecutorCommand { get; set; }

    /// <summary>How long an executor may take from spawn to ready.</summary>
    public TimeSpan ExecutorStartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A name for status displays; defaults to host:port.</summary>
    public string? Name { get; set; }

    /// <summary>The node this donor runs on (replicas never share one); defaults to the Slurm node name inside a job, else the host name.</summary>
    public string? Node { get; set; }

    /// <summary>
    /// On a stop (SIGTERM, e.g. Slurm preemption), how long the donor may take to move its segments to
    /// other donors before it leaves; segments not moved by then lose their leases. Zero leaves at once.
    /// Keep it below the batch system's grace time (Slurm's GraceTime or --signal lead).
    /// </summary>
    public TimeSpan DrainGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// "tcp" (default) or "fabric": also open <see cref="FabricProvider"/> and register the whole pool
    /// once, so clients that choose the fabric read and write it one-sided. The TCP data path stays on.
    /// </summary>
    public string DataTransport { get; set; } = "tcp";

    /// <summary>The libfabric provider for the fabric data path: "tcp;ofi_rxm", "shm", "verbs;ofi_rxm", "efa", "cxi".</summary>
    public string FabricProvider { get; set; } = "tcp;ofi_rxm";

    /// <summary>How the fabric's progress thread waits: "blocking" (no CPU burned while idle) or "spinning" (lower latency, one core busy).</summary>
    public string FabricProgress { get; set; } = "blocking";

    /// <summary>How long a stop waits for in-flight requests.</summary>
    public TimeSpan StopGrace { get; set; } = TimeSpan.FromSeconds(10);

    public long MemoryBytes => ByteSize.Parse(Memory);
}

internal sealed class DonorOptionsValidator : IValidateOptions<DonorOptions>
{
    public ValidateOptionsResult Validate(string? name, DonorOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Manager) && string.IsNullOrWhiteSpace(options.ManagerFile))
            errors.Add("Donor:Manager is not set: pass --manager HOST:PORT (the endpoint `remotemem manager` listens on), set REMOTEMEM_MANAGER, or pass --manager-file PATH.");
        else if (!string.IsNullOrWhiteSpace(options.Manager) && !TryEndpoint(options.Manager))
            errors.Add($"Donor:Manager '{options.Manager}' is not host:port.");
        if (!TryEndpoint(options.Listen))
            errors.Add($"Donor:Listen '{options.Listen}' is not host:port (e.g. 0.0.0.0:7601).");
        if (options.Advertise is not null && !TryEndpoint(options.Advertise))
            errors.Add($"Donor:Advertise '{options.Advertise}' is not host:port.");
        if (!ByteSize.TryParse(options.Memory, out long bytes))
            errors.Add($"Donor:Memory '{options.Memory}' is not a size: use e.g. 512MiB or 16GiB.");
        else if (bytes < 1 << 20)
            errors.Add($"Donor:Memory {options.Memory} is below the minimum of 1MiB.");
        if (options.Cores < 0) errors.Add("Donor:Cores must not be negative.");
        if (options.Gpus < 0) errors.Add("Donor:Gpus must not be negative.");
        if (options.DataTransport is not ("tcp" or "fabric"))
            errors.Add($"Donor:DataTransport '{options.DataTransport}' is not one of: tcp, fabric.");
        if (options.FabricProgress is not ("blocking" or "spinning"))
            errors.Add($"Donor:FabricProgress '{options.FabricProgress}' is not one of: blocking, spinning.");
        if (options.DrainGrace < TimeSpan.Zero || options.DrainGrace.TotalMilliseconds > uint.MaxValue)
            errors.Add($"Donor:DrainGrace {options.DrainGrace} must be between zero and 49 days.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool TryEndpoint(string value)
    {
        try
        {
            Endpoints.Split(value);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            return false;
        }
    }
}
