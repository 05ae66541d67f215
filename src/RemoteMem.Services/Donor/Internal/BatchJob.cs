namespace RemoteMem.Services.Donor.Internal;

/// <summary>What Slurm tells a process about where it runs, through the environment variables it sets.</summary>
internal static class BatchJob
{
    /// <summary>
    /// The Slurm node name (SLURMD_NODENAME), or null outside a job. It can differ from the host name
    /// (several slurmd on one host, or names that are not host names), and it is what "node" means to
    /// the batch system, so it is what donors report.
    /// </summary>
    public static string? NodeName() => Environment.GetEnvironmentVariable("SLURMD_NODENAME") is { Length: > 0 } name ? name : null;

    /// <summary>The Slurm job (and step) this process runs in: "1234", "1234.0", or "" outside a job.</summary>
    public static string FromEnvironment()
    {
        var job = Environment.GetEnvironmentVariable("SLURM_JOB_ID");
        if (string.IsNullOrEmpty(job)) return "";
        // srun steps have a step id; a batch script's own shell has none (or, in some versions, a
        // reserved value far above any real step number), so it is shown as the job alone.
        var step = Environment.GetEnvironmentVariable("SLURM_STEP_ID");
        return uint.TryParse(step, out var id) && id < 0xFFFFFF00 ? $"{job}.{id}" : job;
    }
}
