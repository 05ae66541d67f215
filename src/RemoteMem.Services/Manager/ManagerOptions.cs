using Microsoft.Extensions.Options;
using RemoteMem.Transport;
using RemoteMem.Wire;

namespace RemoteMem.Services.Manager;

/// <summary>Manager settings (configuration section "Manager"; command-line options of `remotemem manager`).</summary>
public sealed class ManagerOptions
{
    public const string Section = "Manager";

    /// <summary>Where to listen for donors and clients: host:port (port 0 picks a free one).</summary>
    public string Listen { get; set; } = "0.0.0.0:7600";

    /// <summary>How often donors report.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A donor silent this long is declared dead and its leases lost.</summary>
    public TimeSpan DonorTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Lease lifetime when the client does not ask for one; clients renew at a third of it.</summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest lease lifetime a client may ask for.</summary>
    public TimeSpan MaxLeaseTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an executor lease lasts when the client does not say (its executor is stopped at the end).</summary>
    public TimeSpan ExecutorLeaseDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Default stripe size (bytes per donor before moving to the next), with units. Half of a 1 MiB block:
    /// a sequential 1 MiB transfer engages two donors at once, which here made 1 MiB rewrites 0.87-1.10x
    /// of a raw socket stream against 0.61-0.75x with 1 MiB stripes, reads unchanged (perf/README.md).
    /// </summary>
    public string StripeSize { get; set; } = "512KiB";

    /// <summary>Default number of donors a large allocation is striped over (fewer when fewer are alive).</summary>
    public int DefaultStripeCount { get; set; } = 8;

    /// <summary>
    /// A file to keep the manager's state in (donors, leases, holders, names), so that leases survive a
    /// manager restart; null keeps it in memory only. Put it on a local disk of the manager's node.
    /// </summary>
    public string? StateFile { get; set; }

    /// <summary>
    /// A folder every donor and client sees (e.g. on the parallel file system) where a drain writes the
    /// segments of leases that opted in (AllowSpill) when no donor has room for them; null: no spilling.
    /// </summary>
    public string? SpillDirectory { get; set; }

    /// <summary>Most bytes per second a rebuild of lost replicas may copy, with units ("500MB"); "0" for no cap. Drains are never capped.</summary>
    public string RebuildBandwidth { get; set; } = "500MB";

    public int StripeSizeBytes => (int)ByteSize.Parse(StripeSize);
}

internal sealed class ManagerOptionsValidator : IValidateOptions<ManagerOptions>
{
    public ValidateOptionsResult Validate(string? name, ManagerOptions options)
    {
        var errors = new List<string>();
        try { Endpoints.Split(options.Listen); }
        catch (FormatException) { errors.Add($"Manager:Listen '{options.Listen}' is not host:port (e.g. 0.0.0.0:7600)."); }
        if (options.HeartbeatInterval <= TimeSpan.Zero) errors.Add("Manager:HeartbeatInterval must be positive.");
        if (options.DonorTimeout <= options.HeartbeatInterval)
            errors.Add($"Manager:DonorTimeout ({options.DonorTimeout}) must be longer than Manager:HeartbeatInterval ({options.HeartbeatInterval}), or live donors would be declared dead.");
        if (options.LeaseTtl <= TimeSpan.Zero || options.LeaseTtl > options.MaxLeaseTtl)
            errors.Add("Manager:LeaseTtl must be positive and at most Manager:MaxLeaseTtl.");
        if (!ByteSize.TryParse(options.StripeSize, out long stripe) || stripe < 4096 || stripe > WireLimits.AbsoluteMaxFrameSize || (stripe & (stripe - 1)) != 0)
            errors.Add($"Manager:StripeSize '{options.StripeSize}' must be a power of two between 4KiB and 64MiB.");
        if (!ByteSize.TryParse(options.RebuildBandwidth, out long rate) || rate < 0)
            errors.Add($"Manager:RebuildBandwidth '{options.RebuildBandwidth}' is not a size per second: use e.g. 500MB, 2GB or 0 (no cap).");
        if (options.DefaultStripeCount < 1) errors.Add("Manager:DefaultStripeCount must be at least 1.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
