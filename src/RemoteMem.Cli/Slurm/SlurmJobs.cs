namespace RemoteMem.Cli.Slurm;

/// <summary>A job as squeue shows it.</summary>
internal sealed record SlurmJob(string Id, string State, string Nodes);

/// <summary>Submitting, listing and cancelling donor jobs through sbatch, squeue and scancel.</summary>
internal static class SlurmJobs
{
    /// <summary>Submits <paramref name="script"/> and returns the job id.</summary>
    public static async Task<string> SubmitAsync(string script, CancellationToken cancellationToken)
    {
        // --parsable prints "jobid" or "jobid;cluster".
        var output = await SlurmTool.RunAsync("sbatch", ["--parsable"], script, cancellationToken);
        var id = output.Trim().Split(';')[0];
        if (id.Length == 0 || !id.All(char.IsAsciiDigit))
            throw new SlurmException($"sbatch answered '{output.Trim()}', not a job id.");
        return id;
    }

    /// <summary>This user's jobs named <paramref name="name"/> that are pending or running.</summary>
    public static async Task<IReadOnlyList<SlurmJob>> ListAsync(string name, CancellationToken cancellationToken)
    {
        var output = await SlurmTool.RunAsync("squeue", ["-h", "-u", Environment.UserName, "-n", name, "-o", "%i|%T|%N"], null, cancellationToken);
        return Parse(output);
    }

    /// <summary>The given jobs that squeue still lists (any user, any name).</summary>
    public static async Task<IReadOnlyList<SlurmJob>> StillQueuedAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0) return [];
        // squeue fails on a job id it has already forgotten, unless asked for a state filter; "all" keeps it lenient.
        var output = await SlurmTool.RunAsync("squeue", ["-h", "-t", "all", "-j", string.Join(',', ids), "-o", "%i|%T|%N"], null, cancellationToken);
        return Parse(output).Where(j => j.State is not ("COMPLETED" or "CANCELLED" or "FAILED" or "TIMEOUT" or "PREEMPTED" or "NODE_FAIL" or "OUT_OF_MEMORY" or "BOOT_FAIL" or "DEADLINE")).ToList();
    }

    /// <summary>Cancels the jobs. scancel sends SIGTERM first (donors leave cleanly), SIGKILL after Slurm's KillWait.</summary>
    public static Task CancelAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        ids.Count == 0 ? Task.CompletedTask : SlurmTool.RunAsync("scancel", ids, null, cancellationToken);

    private static List<SlurmJob> Parse(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('|'))
            .Where(f => f.Length == 3)
            .Select(f => new SlurmJob(f[0], f[1], f[2]))
            .ToList();
}
