using System.ComponentModel;
using System.Diagnostics;

namespace RemoteMem.Cli.Slurm;

/// <summary>A Slurm command that is missing, failed, or answered something this program cannot read.</summary>
internal sealed class SlurmException(string message) : Exception(message);

/// <summary>
/// Runs Slurm's client commands (sinfo, sbatch, squeue, scancel, srun). RemoteMem asks Slurm rather than
/// linking to it: the commands are on every login and compute node, and their output formats are stable.
/// </summary>
internal static class SlurmTool
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Runs <paramref name="tool"/> to completion and returns its stdout; throws <see cref="SlurmException"/> with the reason otherwise.</summary>
    public static async Task<string> RunAsync(string tool, IEnumerable<string> args, string? stdin = null, CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (Win32Exception)
        {
            throw new SlurmException($"{tool} was not found on PATH: run this on a node with Slurm's client commands (on many clusters: `module load slurm`).");
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            if (stdin is not null)
            {
                try
                {
                    await process.StandardInput.WriteAsync(stdin);
                    process.StandardInput.Close();
                }
                catch (IOException)
                {
                    // The command exited before reading its input (a fatal error): its exit code and stderr say why.
                }
            }

            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(Timeout);
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                throw new SlurmException($"{tool} did not answer within {Timeout.TotalSeconds:0} s: is slurmctld reachable (`scontrol ping`)?");
            }

            if (process.ExitCode != 0)
            {
                var reason = (await stderr).Trim();
                throw new SlurmException($"{tool} {string.Join(' ', info.ArgumentList)} failed (exit {process.ExitCode}): {(reason.Length > 0 ? reason : "no message")}");
            }

            return await stdout;
        }
    }
}
