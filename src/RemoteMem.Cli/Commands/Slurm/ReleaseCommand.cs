using System.CommandLine;
using System.Diagnostics;
using RemoteMem.Cli.Internal;
using RemoteMem.Cli.Slurm;

namespace RemoteMem.Cli.Commands.Slurm;

/// <summary>`remotemem slurm release`: cancels donor jobs and waits until Slurm has ended them.</summary>
internal static class ReleaseCommand
{
    public static Command Create()
    {
        var ids = new Argument<string[]>("job-ids") { Description = "Donor job ids to cancel (default: all of this user's jobs named --job-name).", Arity = ArgumentArity.ZeroOrMore };
        var jobName = new Option<string>("--job-name", "-J") { Description = "Name of the donor jobs to cancel.", DefaultValueFactory = _ => "remotemem-donor" };
        var waitTimeout = new Option<string>("--wait-timeout") { Description = "How long to wait for the jobs to end (donors leave the cluster on SIGTERM first).", DefaultValueFactory = _ => "2m" };
        var command = new Command("release", "Cancel donor jobs (SIGTERM: each donor leaves the cluster cleanly) and wait until they have ended.")
        {
            ids, jobName, waitTimeout,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            TimeSpan timeout;
            try
            {
                timeout = Duration.Parse(parse.GetValue(waitTimeout)!);
            }
            catch (FormatException ex)
            {
                return await SlurmCommand.FailAsync("release", ex.Message);
            }

            try
            {
                var name = parse.GetValue(jobName)!;
                IReadOnlyList<string> jobs = parse.GetValue(ids) is { Length: > 0 } given
                    ? given
                    : (await SlurmJobs.ListAsync(name, cancellationToken)).Select(j => j.Id).ToList();
                if (jobs.Count == 0)
                {
                    Console.Out.WriteLine($"No donor jobs named {name} to release.");
                    return 0;
                }

                await SlurmJobs.CancelAsync([.. jobs], cancellationToken);
                Console.Out.WriteLine($"Cancelled {jobs.Count} donor job(s): {string.Join(" ", jobs)}; waiting for them to end...");
                var clock = Stopwatch.StartNew();
                while (true)
                {
                    var left = await SlurmJobs.StillQueuedAsync([.. jobs], cancellationToken);
                    if (left.Count == 0)
                    {
                        Console.Out.WriteLine($"Released: no donor job left ({clock.Elapsed.TotalSeconds:0.0} s).");
                        return 0;
                    }

                    if (clock.Elapsed > timeout)
                        return await SlurmCommand.FailAsync("release", $"{left.Count} job(s) still not ended after {timeout.TotalSeconds:0} s: {string.Join(", ", left.Select(j => $"{j.Id} ({j.State})"))}.");
                    await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
                }
            }
            catch (SlurmException ex)
            {
                return await SlurmCommand.FailAsync("release", ex.Message);
            }
        });
        return command;
    }
}
