using System.Diagnostics;
using RemoteMem.Wire;

namespace RemoteMem.Tests.Infrastructure;

/// <summary>Runs one of the built programs (remotemem, a sample, the perf suite) as a user would: `dotnet X.dll ARGS`.</summary>
public static class DotnetProgram
{
    public readonly record struct Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>
    /// Runs <paramref name="assembly"/> (a path, or a file name in the test output folder) to completion.
    /// <paramref name="secret"/> becomes REMOTEMEM_SECRET; without it the variable is removed, so an
    /// inherited one cannot leak in.
    /// </summary>
    public static Task<Result> RunAsync(string assembly, string? secret, TimeSpan timeout, params string[] args) =>
        RunAsync(assembly, secret, null, timeout, args);

    /// <summary>As above, with variables to set (a null value removes the variable).</summary>
    public static Task<Result> RunAsync(string assembly, string? secret, IReadOnlyDictionary<string, string?>? environment, TimeSpan timeout, params string[] args)
    {
        var variables = new Dictionary<string, string?> { [ClusterSecret.EnvironmentVariable] = secret };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>()) variables[name] = value;
        return RunFileAsync("dotnet", variables, timeout, null, [Path.IsPathRooted(assembly) ? assembly : Path.Combine(AppContext.BaseDirectory, assembly), .. args]);
    }

    /// <summary>Runs any program (a script, sbatch) to completion, with variables to set (a null value removes one).</summary>
    public static async Task<Result> RunFileAsync(string program, IReadOnlyDictionary<string, string?> environment, TimeSpan timeout, string? workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (name, value) in environment)
        {
            if (value is null) info.Environment.Remove(name);
            else info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(limit.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
