using System.Diagnostics;
using RemoteMem.Cli.Internal;
using RemoteMem.Cli.Slurm;
using RemoteMem.Tests.Infrastructure;

namespace RemoteMem.Tests.Slurm;

/// <summary>
/// The real Slurm the integration tests run against: the two-node cluster that ./test.sh starts with
/// tests/slurm/up.sh and names in SLURM_CONF. Without it these tests fail (never skip) with the fix.
/// </summary>
internal static class SlurmTestCluster
{
    public static void Require()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SLURM_CONF")))
            Assert.Fail("The Slurm integration tests need a running Slurm: ./test.sh starts one (as root); by hand: eval \"$(tests/slurm/up.sh /tmp/rm-slurm)\", and tests/slurm/down.sh /tmp/rm-slurm afterwards.");
    }

    /// <summary>Runs `remotemem ARGS` with the cluster's secret in the environment (as a user who exported it would).</summary>
    public static Task<DotnetProgram.Result> RemotememAsync(string? secret, params string[] args) =>
        DotnetProgram.RunAsync(typeof(LocalCluster).Assembly.Location, secret, TimeSpan.FromMinutes(3), args);

    /// <summary>Waits until no job of an earlier test holds a node, so that every node is idle again.</summary>
    public static async Task WaitForIdleNodesAsync()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var busy = await SlurmTool.RunAsync("squeue", ["-h", "-o", "%i"]);
            if (busy.Trim().Length == 0) return;
            if (clock.Elapsed > TimeSpan.FromSeconds(60)) Assert.Fail($"Jobs of earlier tests still hold the nodes: {busy}");
            await Task.Delay(250);
        }
    }

    /// <summary>Runs a program (a sample script, sbatch) with extra environment variables and returns its exit code and output.</summary>
    public static Task<DotnetProgram.Result> RunAsync(string program, IReadOnlyDictionary<string, string> environment, TimeSpan timeout, params string[] args) =>
        DotnetProgram.RunFileAsync(program, environment.ToDictionary(kv => kv.Key, kv => (string?)kv.Value), timeout, Repository.Root, args);

    /// <summary>Waits until Slurm no longer lists the job (it completed, failed or was cancelled).</summary>
    public static async Task WaitForJobEndAsync(string job, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while ((await SlurmJobs.StillQueuedAsync([job], CancellationToken.None)).Count > 0)
        {
            if (clock.Elapsed > timeout) Assert.Fail($"Slurm job {job} did not end within {timeout.TotalSeconds:0} s.");
            await Task.Delay(250);
        }
    }

    /// <summary>A job name of the test's own, so `release` and squeue see only its jobs.</summary>
    public static string UniqueJobName() => "rm-test-" + Guid.NewGuid().ToString("N")[..8];
}
