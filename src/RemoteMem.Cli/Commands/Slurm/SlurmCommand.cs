using System.CommandLine;

namespace RemoteMem.Cli.Commands.Slurm;

/// <summary>`remotemem slurm`: find idle nodes, start donors on them as Slurm jobs, and release them.</summary>
internal static class SlurmCommand
{
    public static Command Create() => new("slurm", "Use a Slurm cluster's idle nodes: scan them, donate their memory as donor jobs, release the jobs.")
    {
        ScanCommand.Create(),
        DonateCommand.Create(),
        ReleaseCommand.Create(),
    };

    /// <summary>Prints a failure the way every slurm subcommand does, and gives the exit code for it.</summary>
    public static async Task<int> FailAsync(string subcommand, string message)
    {
        await Console.Error.WriteLineAsync($"remotemem slurm {subcommand}: {message}");
        return 1;
    }
}
