using System.Globalization;
using System.Text;
using RemoteMem.Wire;

namespace RemoteMem.Cli.Slurm;

/// <summary>
/// What `remotemem slurm donate` asks of Slurm: one donor per batch job (or per task of an srun step inside
/// an existing allocation), each registering with the manager on its own. The donor runs as a job step
/// (`exec srun` in the batch script) so that every way Slurm ends a job reaches it as SIGTERM: preemption
/// with GraceTime, `scancel --signal=TERM`, and the `--signal` warning before the time limit (which
/// Slurm sends to steps, not to the batch shell). A donor leaves the cluster cleanly on SIGTERM.
/// </summary>
internal sealed record DonorJobSpec
{
    /// <summary>The command line that starts `remotemem` on a compute node (a shared file system is assumed).</summary>
    public required IReadOnlyList<string> Remotemem { get; init; }

    public string? Manager { get; init; }

    public string? ManagerFile { get; init; }

    public string? SecretFile { get; init; }

    /// <summary>Memory each donor lends, e.g. "16GiB".</summary>
    public string Memory { get; init; } = "1GiB";

    /// <summary>Added to <see cref="Memory"/> in the job's --mem: the donor process's own memory (runtime, buffers).</summary>
    public string Overhead { get; init; } = "256MiB";

    public int Cores { get; init; } = 1;

    /// <summary>The donor's listen address; port 0 lets several donors share a node.</summary>
    public string Listen { get; init; } = "0.0.0.0:0";

    public string JobName { get; init; } = "remotemem-donor";

    public string? Partition { get; init; }

    public string? Qos { get; init; }

    /// <summary>Slurm's time-limit syntax, passed through (e.g. "30", "1:00:00", "1-0").</summary>
    public string? TimeLimit { get; init; }

    /// <summary>How long before the time limit Slurm sends SIGTERM (sbatch --signal=TERM@seconds); zero for none.</summary>
    public TimeSpan SignalLead { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The donor's --drain-grace: time to move its segments away on SIGTERM (keep it below the partition's GraceTime).</summary>
    public TimeSpan? DrainGrace { get; init; }

    /// <summary>Folder for the jobs' output files (remotemem-donor-JOBID.out).</summary>
    public required string LogDirectory { get; init; }

    /// <summary>The job's memory request in MiB: donated memory plus overhead, rounded up.</summary>
    public long JobMemoryMiB => (ByteSize.Parse(Memory) + ByteSize.Parse(Overhead) + (1 << 20) - 1) >> 20;

    /// <summary>The donor's own command line.</summary>
    public IReadOnlyList<string> DonorCommand()
    {
        var command = new List<string>(Remotemem) { "donor", "--memory", Memory, "--cores", Cores.ToString(CultureInfo.InvariantCulture), "--listen", Listen };
        if (Manager is not null) command.AddRange(["--manager", Manager]);
        else if (ManagerFile is not null) command.AddRange(["--manager-file", Path.GetFullPath(ManagerFile)]);
        if (SecretFile is not null) command.AddRange(["--secret-file", Path.GetFullPath(SecretFile)]);
        if (DrainGrace is { } grace) command.AddRange(["--drain-grace", $"{(long)grace.TotalMilliseconds}ms"]);
        return command;
    }

    /// <summary>The batch script for one donor job, fed to `sbatch` on stdin.</summary>
    public string BatchScript()
    {
        var s = new StringBuilder();
        s.Append("#!/bin/sh\n");
        s.Append("# A RemoteMem donor, submitted by `remotemem slurm donate`. It lends this node's idle memory\n");
        s.Append("# until the job ends; on SIGTERM (preemption, scancel, the time-limit warning) it leaves cleanly.\n");
        Directive(s, "job-name", JobName);
        Directive(s, "nodes", "1");
        Directive(s, "ntasks", "1");
        Directive(s, "cpus-per-task", Cores.ToString(CultureInfo.InvariantCulture));
        Directive(s, "mem", $"{JobMemoryMiB}M");
        Directive(s, "output", Path.Combine(Path.GetFullPath(LogDirectory), $"{JobName}-%j.out"));
        if (Partition is not null) Directive(s, "partition", Partition);
        if (Qos is not null) Directive(s, "qos", Qos);
        if (TimeLimit is not null) Directive(s, "time", TimeLimit);
        if (SignalLead > TimeSpan.Zero) Directive(s, "signal", $"TERM@{(int)Math.Ceiling(SignalLead.TotalSeconds)}");
        s.Append("exec srun --ntasks=1 ").Append(string.Join(' ', DonorCommand().Select(Quote))).Append('\n');
        return s.ToString();
    }

    /// <summary>srun's arguments for <paramref name="count"/> donors as one step beside the work of an existing allocation.</summary>
    public IReadOnlyList<string> OverlapStep(int count) =>
    [
        "--overlap", $"--ntasks={count}", $"--cpus-per-task={Cores}", $"--job-name={JobName}", .. DonorCommand(),
    ];

    private static void Directive(StringBuilder s, string name, string value)
    {
        // #SBATCH lines are not parsed by a shell: a value cannot be quoted, so it must not need quoting.
        if (value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            throw new ArgumentException($"The value of --{name}, '{value}', contains white space, which an #SBATCH line cannot carry.");
        s.Append("#SBATCH --").Append(name).Append('=').Append(value).Append('\n');
    }

    /// <summary>Quotes one word for a POSIX shell: single quotes, with each embedded quote closed, escaped and reopened.</summary>
    public static string Quote(string word) => "'" + word.Replace("'", "'\\''") + "'";
}
