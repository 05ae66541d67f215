using System.Text.RegularExpressions;

namespace RemoteMem.Cli.Slurm;

/// <summary>
/// How long a donor may drain after Slurm's SIGTERM. Preemption gives the partition's GraceTime before
/// SIGKILL; the time-limit warning gives the --signal lead. The donor must finish moving its data
/// inside the shorter of the two, with a margin for deregistering and exiting.
/// </summary>
internal static partial class SlurmGrace
{
    /// <summary>The drain time that fits both windows, or null when Slurm sets neither (the donor's default then applies).</summary>
    public static TimeSpan? DrainFor(TimeSpan? partitionGrace, TimeSpan signalLead)
    {
        var windows = new[] { partitionGrace, signalLead }.Where(w => w > TimeSpan.Zero).Select(w => w!.Value).ToList();
        if (windows.Count == 0) return null;
        var window = windows.Min();
        // Keep a fifth of the window (at least a second) for leaving; a tiny window gets half.
        var margin = window > TimeSpan.FromSeconds(2) ? TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, window.Ticks / 5)) : window / 2;
        return window - margin;
    }

    /// <summary>
    /// The GraceTime of <paramref name="partition"/> (or of the default partition), from
    /// `scontrol show partition`; null when Slurm sets none or cannot say.
    /// </summary>
    public static async Task<TimeSpan?> PartitionGraceAsync(string? partition, CancellationToken cancellationToken)
    {
        List<string> args = ["show", "partition", "-o"];
        if (partition is not null) args.Add(partition.Split(',')[0]);
        var output = await SlurmTool.RunAsync("scontrol", args, null, cancellationToken);
        var line = output.Split('\n').FirstOrDefault(l => partition is not null || l.Contains(" Default=YES", StringComparison.Ordinal));
        if (line is null) return null;
        var match = GraceTime().Match(line);
        return match.Success && int.TryParse(match.Groups[1].Value, out int seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : null;
    }

    [GeneratedRegex(@"\bGraceTime=(\d+)\b")]
    private static partial Regex GraceTime();
}
