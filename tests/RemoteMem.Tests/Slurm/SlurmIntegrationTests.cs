using System.Diagnostics;
using System.Text.Json;
using RemoteMem.Cli.Internal;
using RemoteMem.Cli.Slurm;
using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Tests.Slurm;

/// <summary>
/// `remotemem slurm` against a real slurmctld with two slurmd nodes (n1, n2: two CPUs, 4 GiB each):
/// scan, donate as batch jobs and as an overlapping step, memory served by those donors, donor jobs
/// ended by SIGTERM and by preemption (they drain: nothing is lost), and release.
/// </summary>
[Collection(Processes.Name)]
public sealed class SlurmIntegrationTests
{
    public SlurmIntegrationTests() => SlurmTestCluster.Require();

    [Fact]
    public async Task Scan_lists_both_idle_nodes_with_their_cores_and_allocatable_memory()
    {
        await SlurmTestCluster.WaitForIdleNodesAsync();

        var (code, json, errors) = await SlurmTestCluster.RemotememAsync(null, "slurm", "scan", "--json");
        Assert.True(code == 0, errors);
        var nodes = JsonDocument.Parse(json).RootElement.EnumerateArray().ToList();
        Assert.Equal(["n1", "n2"], nodes.Select(n => n.GetProperty("node").GetString()).Order());
        Assert.All(nodes, n =>
        {
            Assert.Equal("idle", n.GetProperty("state").GetString());
            Assert.Equal(2, n.GetProperty("freeCores").GetInt32());
            Assert.Equal(4096, n.GetProperty("allocatableMiB").GetInt64());
            Assert.Equal(["debug", "scavenger"], n.GetProperty("partitions").EnumerateArray().Select(p => p.GetString()).Order());
        });

        var (tableCode, table, tableErrors) = await SlurmTestCluster.RemotememAsync(null, "slurm", "scan");
        Assert.True(tableCode == 0, tableErrors);
        Assert.Contains("n1", table);
        Assert.Contains("2 node(s); 4 free cores, 8 GiB allocatable.", table);
    }

    [Fact]
    public async Task Donor_jobs_register_serve_verified_memory_drain_on_SIGTERM_without_loss_and_release_leaves_no_job()
    {
        await SlurmTestCluster.WaitForIdleNodesAsync();
        // The manager publishes its address in a shared folder; donors find it there.
        var logs = Directory.CreateTempSubdirectory("rm-slurm-logs").FullName;
        var managerFile = Path.Combine(logs, "manager-address");
        await using var cluster = await LocalCluster.StartAsync(0, "0", ["--heartbeat-interval", "200ms", "--donor-timeout", "2s", "--address-file", managerFile]);
        Assert.Equal(cluster.ManagerEndpoint, (await File.ReadAllTextAsync(managerFile)).Trim());
        var jobName = SlurmTestCluster.UniqueJobName();

        var (code, output, errors) = await SlurmTestCluster.RemotememAsync(cluster.SecretText,
            "slurm", "donate", "--manager-file", managerFile, "--count", "2", "--memory", "3GiB",
            "--donor-listen", "127.0.0.1:0", "--job-name", jobName, "--log-dir", logs, "--wait", "--wait-timeout", "90s");
        Assert.True(code == 0, output + errors + Logs(logs));
        Assert.Contains("All 2 donor(s) registered", output);

        await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret });
        var status = await client.GetStatusAsync();
        var jobs = (await SlurmJobs.ListAsync(jobName, CancellationToken.None)).ToDictionary(j => j.Id);
        Assert.Equal(2, jobs.Count);
        // Each donor reports its Slurm job step and the Slurm node it runs on (the nodes share one host here).
        Assert.Equal(jobs.Keys.Select(id => id + ".0").Order(), status.Donors.Select(d => d.Job!).Order());
        Assert.Equal(["n1", "n2"], status.Donors.Select(d => d.Node).Order());
        foreach (var d in status.Donors) Assert.Equal(jobs[d.Job!.Split('.')[0]].Nodes, d.Node);

        // Two donors of 3 GiB (+256 MiB overhead) cannot share a 4 GiB node, so Slurm put one on each.
        // Each holds one core and 3328 MiB of its node: scan sees mixed nodes with the rest.
        var (scanCode, scan, _) = await SlurmTestCluster.RemotememAsync(null, "slurm", "scan", "--json");
        Assert.Equal(0, scanCode);
        Assert.All(JsonDocument.Parse(scan).RootElement.EnumerateArray(), n =>
        {
            Assert.Equal("mixed", n.GetProperty("state").GetString());
            Assert.Equal(1, n.GetProperty("freeCores").GetInt32());
            Assert.Equal(4096 - 3328, n.GetProperty("allocatableMiB").GetInt64());
        });

        // Memory on the donor jobs: striped over both, every byte verified.
        const int size = 96 << 20;
        await using var allocation = await client.AllocateAsync(size, new AllocationOptions { StripeCount = 2, StripeSize = 1 << 20 });
        var pattern = TestPattern.Make(0, size, 8);
        await allocation.WriteAsync(0, pattern);
        var back = new byte[size];
        await allocation.ReadAsync(0, back);
        Assert.True(pattern.AsSpan().SequenceEqual(back), "the data read back from the Slurm donors differs");

        // Slurm ends one donor job the way preemption does: SIGTERM to the job's step. The donor drains:
        // its segment moves to the other donor while the lease stays usable, and not a byte is lost.
        var victim = status.Donors.First(d => allocation.Donors.Contains(d.Endpoint));
        await SlurmTool.RunAsync("scancel", ["--signal=TERM", victim.Job!.Split('.')[0]]);
        await WaitForDonorAsync(client, d => d.Id == victim.Id && d.Health == DonorHealth.Left, Path.Combine(logs, "none"));
        Array.Clear(back);
        await allocation.ReadAsync(0, back);
        Assert.True(pattern.AsSpan().SequenceEqual(back), "bytes were lost when the donor job was ended");
        Assert.DoesNotContain(victim.Endpoint, allocation.Donors);
        Assert.False((await client.GetStatusAsync()).Leases.Single(l => l.Id == allocation.LeaseId).Lost);

        var (releaseCode, released, releaseErrors) = await SlurmTestCluster.RemotememAsync(null, "slurm", "release", "--job-name", jobName);
        Assert.True(releaseCode == 0, released + releaseErrors);
        Assert.Contains("Released: no donor job left", released);
        Assert.Empty(await SlurmJobs.ListAsync(jobName, CancellationToken.None));
        Assert.All((await client.GetStatusAsync()).Donors, d => Assert.Equal(DonorHealth.Left, d.Health));
    }

    [Fact]
    public async Task A_donor_preempted_by_a_higher_priority_job_drains_within_GraceTime_and_no_byte_is_lost()
    {
        await SlurmTestCluster.WaitForIdleNodesAsync();
        await using var cluster = await LocalCluster.StartAsync(0, "0", ["--heartbeat-interval", "200ms", "--donor-timeout", "2s"]);
        var jobName = SlurmTestCluster.UniqueJobName();
        var logs = Directory.CreateTempSubdirectory("rm-slurm-preempt").FullName;
        // 3 GiB donors cannot share a 4 GiB node: one per node. The scavenger partition's GraceTime is 5 s.
        var (code, output, errors) = await SlurmTestCluster.RemotememAsync(cluster.SecretText,
            "slurm", "donate", "--partition", "scavenger", "--manager", cluster.ManagerEndpoint, "--count", "2", "--memory", "3GiB",
            "--donor-listen", "127.0.0.1:0", "--job-name", jobName, "--log-dir", logs, "--wait", "--wait-timeout", "90s");
        Assert.True(code == 0, output + errors + Logs(logs));
        Assert.Contains("Donors drain within 4 s of SIGTERM", output); // fitted inside the partition's GraceTime

        await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret });
        await using var allocation = await client.AllocateAsync(16 << 20, new AllocationOptions { StripeCount = 1 });
        var pattern = TestPattern.Make(0, 16 << 20, 5);
        await allocation.WriteAsync(0, pattern);
        var donor = (await client.GetStatusAsync()).Donors.Single(d => d.Endpoint == allocation.Donors[0]);

        // An ordinary job that needs the donor's whole node: Slurm preempts the scavenger job
        // (PreemptMode=CANCEL): SIGTERM to the donor, which moves its segment to the other node's donor.
        var urgent = await SlurmJobs.SubmitAsync(
            $"#!/bin/sh\n#SBATCH --partition=debug\n#SBATCH --nodelist={donor.Node}\n#SBATCH --cpus-per-task=2\n#SBATCH --mem=64M\n#SBATCH --output={logs}/urgent-%j.out\necho urgent job ran on $SLURMD_NODENAME\n",
            CancellationToken.None);
        await WaitForDonorAsync(client, d => d.Id == donor.Id && d.Health == DonorHealth.Left, Path.Combine(logs, $"{jobName}-{donor.Job!.Split('.')[0]}.out"));
        var back = new byte[16 << 20];
        await allocation.ReadAsync(0, back);
        Assert.True(pattern.AsSpan().SequenceEqual(back), "bytes were lost when the donor was preempted");
        Assert.NotEqual(donor.Endpoint, allocation.Donors[0]);

        await SlurmTestCluster.WaitForJobEndAsync(urgent, TimeSpan.FromSeconds(60));
        Assert.Equal($"urgent job ran on {donor.Node}", (await File.ReadAllTextAsync(Path.Combine(logs, $"urgent-{urgent}.out"))).Trim());
        var release = await SlurmTestCluster.RemotememAsync(null, "slurm", "release", "--job-name", jobName);
        Assert.True(release.ExitCode == 0, release.Stdout + release.Stderr);
    }

    [Fact]
    public async Task Donors_started_inside_an_allocation_run_as_an_overlapping_step_and_find_the_manager_by_file()
    {
        await SlurmTestCluster.WaitForIdleNodesAsync();
        await using var cluster = await LocalCluster.StartAsync(0, "0");
        var shared = Directory.CreateTempSubdirectory("rm-slurm-shared").FullName;
        var secretFile = Path.Combine(shared, "secret");
        await File.WriteAllTextAsync(secretFile, cluster.SecretText);
        var managerFile = Path.Combine(shared, "manager");
        var jobName = SlurmTestCluster.UniqueJobName();

        // The application's own job: its batch script starts the donor step itself. The manager's
        // address file appears only after the job has started, as when a manager job starts late.
        var remotemem = typeof(LocalCluster).Assembly.Location;
        var script = $"""
            #!/bin/sh
            #SBATCH --job-name={jobName}
            #SBATCH --output={shared}/job-%j.out
            #SBATCH --mem=512M
            exec {Environment.ProcessPath} {remotemem} slurm donate --in-allocation --count 1 --memory 32MiB --donor-listen 127.0.0.1:0 --manager-file {managerFile} --secret-file {secretFile}
            """;
        var job = await SlurmJobs.SubmitAsync(script, CancellationToken.None);
        await File.WriteAllTextAsync(managerFile, cluster.ManagerEndpoint + "\n");

        await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret });
        var donor = await WaitForDonorAsync(client, d => d.Job == job + ".0", Path.Combine(shared, $"job-{job}.out"));
        Assert.Equal(32L << 20, donor.OfferedBytes);

        await using var allocation = await client.AllocateAsync(4 << 20);
        await allocation.WriteAsync(0, TestPattern.Make(0, 4 << 20, 3));
        var back = new byte[4 << 20];
        await allocation.ReadAsync(0, back);
        Assert.True(TestPattern.Make(0, 4 << 20, 3).AsSpan().SequenceEqual(back));

        var (code, output, errors) = await SlurmTestCluster.RemotememAsync(null, "slurm", "release", job);
        Assert.True(code == 0, output + errors);
        Assert.Empty(await SlurmJobs.StillQueuedAsync([job], CancellationToken.None));
        await WaitForDonorAsync(client, d => d.Id == donor.Id && d.Health == DonorHealth.Left, Path.Combine(shared, $"job-{job}.out"));
    }

    [Fact]
    public async Task Donate_refuses_bad_requests_with_the_fix_and_passes_on_Slurms_own_refusals()
    {
        var secret = new string('a', 64);
        var (code, _, errors) = await SlurmTestCluster.RemotememAsync(secret, "slurm", "donate", "--count", "1");
        Assert.Equal(1, code);
        Assert.Contains("--manager HOST:PORT", errors);

        (code, _, errors) = await SlurmTestCluster.RemotememAsync(null, "slurm", "donate", "--manager", "127.0.0.1:1");
        Assert.Equal(1, code);
        Assert.Contains("cluster secret", errors);

        (code, _, errors) = await SlurmTestCluster.RemotememAsync(secret, "slurm", "donate", "--manager", "127.0.0.1:1", "--partition", "no-such-partition");
        Assert.Equal(1, code);
        Assert.Contains("sbatch", errors);
        Assert.Contains("invalid partition", errors, StringComparison.OrdinalIgnoreCase);

        // Without --drain-grace the donors' drain is fitted inside the partition's GraceTime (5 s in scavenger).
        var (dryCode, script, dryErrors) = await SlurmTestCluster.RemotememAsync(secret, "slurm", "donate", "--manager", "127.0.0.1:1", "--partition", "scavenger", "--dry-run");
        Assert.True(dryCode == 0, dryErrors);
        Assert.Contains("'--drain-grace' '4000ms'", script);
        Assert.Contains("GraceTime 5 s of partition scavenger", dryErrors);

        var (releaseCode, released, _) = await SlurmTestCluster.RemotememAsync(null, "slurm", "release", "--job-name", SlurmTestCluster.UniqueJobName());
        Assert.Equal(0, releaseCode);
        Assert.Contains("No donor jobs named", released);
    }

    [Fact]
    public async Task Without_Slurm_scan_and_donate_say_what_is_wrong()
    {
        var empty = Directory.CreateTempSubdirectory("rm-no-slurm").FullName;
        var (code, _, errors) = await DotnetProgram.RunAsync(typeof(LocalCluster).Assembly.Location, null,
            new Dictionary<string, string?> { ["PATH"] = empty }, TimeSpan.FromMinutes(1), "slurm", "scan");
        Assert.Equal(1, code);
        Assert.Contains("sinfo was not found on PATH", errors);

        // Slurm's commands are there but their configuration is broken: sbatch gives up before reading its script.
        var broken = Path.Combine(empty, "slurm.conf");
        await File.WriteAllTextAsync(broken, "not a slurm configuration\n");
        (code, _, errors) = await DotnetProgram.RunAsync(typeof(LocalCluster).Assembly.Location, new string('a', 64),
            new Dictionary<string, string?> { ["SLURM_CONF"] = broken }, TimeSpan.FromMinutes(1),
            "slurm", "donate", "--manager", "127.0.0.1:1");
        Assert.True(code == 1, errors);
        Assert.Contains("remotemem slurm donate: sbatch --parsable failed", errors);
    }

    private static async Task<DonorStatus> WaitForDonorAsync(RemoteMemClient client, Func<DonorStatus, bool> condition, string jobOutput)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            if ((await client.GetStatusAsync()).Donors.FirstOrDefault(condition) is { } donor) return donor;
            await Task.Delay(200);
        }

        Assert.Fail("No such donor within 90 s. Job output:\n" + (File.Exists(jobOutput) ? await File.ReadAllTextAsync(jobOutput) : "(none)"));
        return null!;
    }

    private static string Logs(string folder) =>
        string.Join("\n", Directory.GetFiles(folder).Select(f => $"--- {f}\n{File.ReadAllText(f)}"));
}
