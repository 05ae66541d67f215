using System.Diagnostics;
using RemoteMem.Cli.Internal;
using RemoteMem.Cli.Slurm;
using RemoteMem.Tests.Infrastructure;

namespace RemoteMem.Tests.Slurm;

/// <summary>samples/slurm run as an administrator and a user would run them, on the real two-node Slurm.</summary>
[Collection(Processes.Name)]
public sealed class SlurmSampleTests
{
    public SlurmSampleTests() => SlurmTestCluster.Require();

    [Fact]
    public async Task Manager_job_then_donor_jobs_then_an_application_job_that_verifies_its_remote_memory()
    {
        await SlurmTestCluster.WaitForIdleNodesAsync();
        var shared = Directory.CreateTempSubdirectory("rm-slurm-sample").FullName;
        var env = new Dictionary<string, string>
        {
            ["REMOTEMEM_SHARED"] = shared,
            ["REMOTEMEM"] = $"{Environment.ProcessPath} {typeof(LocalCluster).Assembly.Location}",
            ["MANAGER_LISTEN"] = "127.0.0.1:0",
            ["COUNT"] = "2",
            ["MEMORY"] = "200MiB",
            ["TIME"] = "10:00",
            ["DONOR_LISTEN"] = "127.0.0.1:0",
            ["APP"] = $"{Environment.ProcessPath} {Path.Combine(AppContext.BaseDirectory, "HelloRemoteMem.dll")}",
        };
        var manager = await SubmitAsync("samples/slurm/manager.sbatch", env, shared);
        string? applicationJob = null;
        try
        {
            await WaitForFileAsync(Path.Combine(shared, "manager"), Path.Combine(shared, $"remotemem-manager-{manager}.out"));

            var donors = await SlurmTestCluster.RunAsync(Repository.PathOf("samples/slurm/donors.sh"), env, TimeSpan.FromMinutes(3));
            Assert.True(donors.ExitCode == 0, donors.Stdout + donors.Stderr);
            Assert.Contains("All 2 donor(s) registered", donors.Stdout);
            Assert.Contains("alive", donors.Stdout);

            applicationJob = await SubmitAsync("samples/slurm/application.sbatch", env, shared);
            await SlurmTestCluster.WaitForJobEndAsync(applicationJob, TimeSpan.FromMinutes(2));
            var output = await File.ReadAllTextAsync(Path.Combine(shared, $"remotemem-app-{applicationJob}.out"));
            Assert.Contains("read back what was written", output);
        }
        finally
        {
            var release = await SlurmTestCluster.RemotememAsync(null, "slurm", "release");
            Assert.True(release.ExitCode == 0, release.Stdout + release.Stderr);
            await SlurmJobs.CancelAsync([manager], CancellationToken.None);
            await SlurmTestCluster.WaitForJobEndAsync(manager, TimeSpan.FromMinutes(1));
        }

        // A manager that stops cleanly takes its address file with it, so nothing dials a dead address.
        Assert.False(File.Exists(Path.Combine(shared, "manager")), "the manager's address file outlived it");
    }

    /// <summary>sbatch SCRIPT from the shared folder (where the jobs write their output), with the sample's settings exported.</summary>
    private static async Task<string> SubmitAsync(string script, IReadOnlyDictionary<string, string> env, string workingDirectory)
    {
        var run = await SlurmTestCluster.RunAsync("sbatch", env, TimeSpan.FromMinutes(1), "--parsable", "--chdir", workingDirectory, Repository.PathOf(script));
        Assert.True(run.ExitCode == 0, run.Stderr);
        return run.Stdout.Trim().Split(';')[0];
    }

    private static async Task WaitForFileAsync(string path, string jobOutput)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
                Assert.Fail($"{path} did not appear. Job output:\n" + (File.Exists(jobOutput) ? await File.ReadAllTextAsync(jobOutput) : "(none)"));
            await Task.Delay(200);
        }
    }
}
