using System.CommandLine;
using System.Diagnostics;
using System.Reflection;
using RemoteMem.Cli.Internal;
using RemoteMem.Cli.Slurm;
using RemoteMem.Client;
using RemoteMem.Services.Donor.Internal;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Cli.Commands.Slurm;

/// <summary>
/// `remotemem slurm donate`: donors as Slurm batch jobs (one per job), or as one `srun --overlap` step
/// inside the current allocation. Each donor registers with the manager on its own.
/// </summary>
internal static class DonateCommand
{
    public static Command Create()
    {
        var manager = new Option<string?>("--manager") { Description = "The manager's host:port, as the compute nodes reach it (or set REMOTEMEM_MANAGER, or use --manager-file)." };
        var managerFile = new Option<string?>("--manager-file") { Description = "A file in a shared folder holding the manager's host:port (`remotemem manager --address-file`)." };
        var count = new Option<int>("--count", "-n") { Description = "Number of donors.", DefaultValueFactory = _ => 1 };
        var memory = new Option<string>("--memory") { Description = "Memory each donor lends, e.g. 16GiB.", DefaultValueFactory = _ => "1GiB" };
        var overhead = new Option<string>("--overhead") { Description = "Added to --memory in the job's memory request, for the donor process itself.", DefaultValueFactory = _ => "256MiB" };
        var cores = new Option<int>("--cores", "-c") { Description = "Cores per donor.", DefaultValueFactory = _ => 1 };
        var partition = new Option<string?>("--partition", "-p") { Description = "Partition to submit to (a preemptible scavenger partition, typically)." };
        var qos = new Option<string?>("--qos") { Description = "QOS to submit with." };
        var time = new Option<string?>("--time", "-t") { Description = "Time limit, in Slurm's syntax (e.g. 30, 1:00:00, 1-0)." };
        var signalLead = new Option<string>("--signal-lead") { Description = "How long before the time limit Slurm sends SIGTERM, so the donor leaves in time (0 for none).", DefaultValueFactory = _ => "60s" };
        var drainGrace = new Option<string?>("--drain-grace") { Description = "Time each donor has on SIGTERM to move its segments to other donors (default: fitted inside the partition's GraceTime and --signal-lead)." };
        var jobName = new Option<string>("--job-name", "-J") { Description = "Job name; `remotemem slurm release` cancels jobs by it.", DefaultValueFactory = _ => "remotemem-donor" };
        var logDir = new Option<string>("--log-dir") { Description = "Folder for the donors' output files.", DefaultValueFactory = _ => "." };
        var listen = new Option<string>("--donor-listen") { Description = "The donors' listen address (port 0: any free port, so donors can share a node).", DefaultValueFactory = _ => "0.0.0.0:0" };
        var remotemem = new Option<string?>("--remotemem") { Description = "Path of `remotemem` (or remotemem.dll) on the compute nodes (default: this program; a shared file system is assumed)." };
        var inAllocation = new Option<bool>("--in-allocation") { Description = "Run the donors as one `srun --overlap` step inside the current job (SLURM_JOB_ID) instead of submitting jobs; runs until the step ends." };
        var wait = new Option<bool>("--wait") { Description = "Wait until every donor has registered with the manager." };
        var waitTimeout = new Option<string>("--wait-timeout") { Description = "How long --wait waits.", DefaultValueFactory = _ => "5m" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the batch script (or srun command) instead of submitting it." };
        var command = new Command("donate", "Start donors on idle nodes as Slurm jobs (sbatch), or as an srun --overlap step in the current allocation.")
        {
            manager, managerFile, count, memory, overhead, cores, partition, qos, time, signalLead, drainGrace, jobName, logDir, listen,
            remotemem, inAllocation, wait, waitTimeout, dryRun, ServiceHost.SecretFileOption,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            DonorJobSpec spec;
            TimeSpan waitFor;
            int donors = parse.GetValue(count);
            try
            {
                spec = new DonorJobSpec
                {
                    Remotemem = Launcher(parse.GetValue(remotemem)),
                    Manager = parse.GetValue(manager) ?? DonorCommand.NonEmpty(Environment.GetEnvironmentVariable(DonorCommand.ManagerVariable)),
                    ManagerFile = parse.GetValue(managerFile),
                    SecretFile = parse.GetValue(ServiceHost.SecretFileOption),
                    Memory = parse.GetValue(memory)!,
                    Overhead = parse.GetValue(overhead)!,
                    Cores = parse.GetValue(cores),
                    Partition = parse.GetValue(partition),
                    Qos = parse.GetValue(qos),
                    TimeLimit = parse.GetValue(time),
                    SignalLead = Duration.Parse(parse.GetValue(signalLead)!),
                    DrainGrace = parse.GetValue(drainGrace) is { } grace ? Duration.Parse(grace) : null,
                    JobName = parse.GetValue(jobName)!,
                    LogDirectory = parse.GetValue(logDir)!,
                    Listen = parse.GetValue(listen)!,
                };
                waitFor = Duration.Parse(parse.GetValue(waitTimeout)!);
                Validate(spec, donors);
                _ = spec.BatchScript();
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or FileNotFoundException)
            {
                return await SlurmCommand.FailAsync("donate", ex.Message);
            }

            try
            {
                if (spec.DrainGrace is null) spec = await FitDrainGraceAsync(spec, parse.GetValue(dryRun) ? Console.Error : Console.Out, cancellationToken);
                if (parse.GetValue(inAllocation)) return await RunStepAsync(spec, donors, parse.GetValue(dryRun), cancellationToken);
                if (parse.GetValue(dryRun))
                {
                    Console.Out.Write(spec.BatchScript());
                    return 0;
                }

                Directory.CreateDirectory(spec.LogDirectory);
                var jobs = new List<string>();
                for (int i = 0; i < donors; i++) jobs.Add(await SlurmJobs.SubmitAsync(spec.BatchScript(), cancellationToken));
                Console.Out.WriteLine($"Submitted {donors} donor job(s) named {spec.JobName}: {string.Join(" ", jobs)}");
                Console.Out.WriteLine($"  each lends {spec.Memory} with {spec.Cores} core(s); output in {Path.GetFullPath(spec.LogDirectory)}; `remotemem slurm release --job-name {spec.JobName}` ends them.");
                return parse.GetValue(wait) ? await WaitForDonorsAsync(spec, jobs, waitFor, cancellationToken) : 0;
            }
            catch (SlurmException ex)
            {
                return await SlurmCommand.FailAsync("donate", ex.Message);
            }
        });
        return command;
    }

    private static void Validate(DonorJobSpec spec, int donors)
    {
        if (donors < 1) throw new ArgumentException("--count must be at least 1.");
        if (spec.Cores < 1) throw new ArgumentException("--cores must be at least 1.");
        if (ByteSize.Parse(spec.Memory) < 1 << 20) throw new ArgumentException($"--memory {spec.Memory} is below the donor minimum of 1MiB.");
        if (spec.Manager is null && spec.ManagerFile is null)
            throw new ArgumentException($"Where is the manager? Pass --manager HOST:PORT, set {DonorCommand.ManagerVariable}, or pass --manager-file PATH (written by `remotemem manager --address-file`).");
        if (spec.SecretFile is null && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(ClusterSecret.EnvironmentVariable)))
            throw new ArgumentException($"The donors need the cluster secret: pass --secret-file PATH (on a shared file system; create one with `remotemem secret --out PATH`) or set {ClusterSecret.EnvironmentVariable}.");
        if (spec.SecretFile is not null && !File.Exists(spec.SecretFile))
            throw new FileNotFoundException($"The secret file {spec.SecretFile} does not exist.");
    }

    /// <summary>
    /// Preemption leaves a donor the partition's GraceTime, the time-limit warning the --signal lead:
    /// the donor's drain must fit in both. Without the partition's setting, the lead alone decides.
    /// </summary>
    private static async Task<DonorJobSpec> FitDrainGraceAsync(DonorJobSpec spec, TextWriter note, CancellationToken cancellationToken)
    {
        TimeSpan? partitionGrace = null;
        try
        {
            partitionGrace = await SlurmGrace.PartitionGraceAsync(spec.Partition, cancellationToken);
        }
        catch (SlurmException ex)
        {
            await Console.Error.WriteLineAsync($"remotemem slurm donate: could not read the partition's GraceTime ({ex.Message}); fitting the drain to --signal-lead only.");
        }

        var drain = SlurmGrace.DrainFor(partitionGrace, spec.SignalLead);
        if (drain is { } d)
        {
            var why = partitionGrace is { } g ? $"GraceTime {g.TotalSeconds:0} s of partition {spec.Partition ?? "(default)"}, --signal-lead {spec.SignalLead.TotalSeconds:0} s" : $"--signal-lead {spec.SignalLead.TotalSeconds:0} s";
            await note.WriteLineAsync($"Donors drain within {d.TotalSeconds:0.#} s of SIGTERM ({why}).");
        }

        return spec with { DrainGrace = drain };
    }

    /// <summary>How compute nodes start this same program: its apphost, or `dotnet remotemem.dll`.</summary>
    private static IReadOnlyList<string> Launcher(string? given)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        bool viaDotnet = Path.GetFileNameWithoutExtension(host) == "dotnet";
        if (given is not null)
        {
            if (!File.Exists(given)) throw new FileNotFoundException($"--remotemem {given} does not exist.");
            return given.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? [viaDotnet ? host : "dotnet", Path.GetFullPath(given)] : [Path.GetFullPath(given)];
        }

        return viaDotnet ? [host, Assembly.GetEntryAssembly()!.Location] : [host];
    }

    private static async Task<int> RunStepAsync(DonorJobSpec spec, int donors, bool dryRun, CancellationToken cancellationToken)
    {
        var args = spec.OverlapStep(donors);
        if (dryRun)
        {
            Console.Out.WriteLine("srun " + string.Join(' ', args.Select(DonorJobSpec.Quote)));
            return 0;
        }

        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SLURM_JOB_ID")))
            throw new SlurmException("--in-allocation runs inside a Slurm job (SLURM_JOB_ID is not set): use it in a batch script or under salloc, or drop it to submit donor jobs.");
        // srun forwards SIGTERM/SIGINT to the donors, which leave cleanly; its exit code is the step's.
        var info = new ProcessStartInfo("srun") { UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        Process step;
        try
        {
            step = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new SlurmException("srun was not found on PATH.");
        }

        using (step)
        {
            await step.WaitForExitAsync(CancellationToken.None);
            return step.ExitCode;
        }
    }

    /// <summary>Waits until a donor from each submitted job is alive at the manager, printing each as it arrives.</summary>
    private static async Task<int> WaitForDonorsAsync(DonorJobSpec spec, IReadOnlyList<string> jobs, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var seen = new HashSet<string>();
        string? endpoint = spec.Manager;
        Console.Out.WriteLine($"Waiting up to {timeout.TotalSeconds:0} s for {jobs.Count} donor(s) to register...");
        while (clock.Elapsed < timeout)
        {
            endpoint ??= ManagerAddress.TryRead(spec.ManagerFile!);
            if (endpoint is not null)
            {
                try
                {
                    await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions
                    {
                        Manager = endpoint,
                        SecretFile = spec.SecretFile,
                        ControlRetries = 1,
                        ControlTimeout = TimeSpan.FromSeconds(5),
                    }, cancellationToken);
                    var report = await client.GetStatusAsync(cancellationToken);
                    foreach (var donor in report.Donors.Where(d => d.Health == DonorHealth.Alive && d.Job is not null))
                    {
                        var job = donor.Job!.Split('.')[0];
                        if (jobs.Contains(job) && seen.Add(job))
                            Console.Out.WriteLine($"  donor {donor.Id} registered: job {donor.Job} on {donor.Node}, {ByteSize.Format(donor.OfferedBytes)} at {donor.Endpoint}");
                    }
                }
                catch (Exception ex) when (ex is RemoteMemException or IOException)
                {
                    // The manager may not be up yet: keep waiting.
                }

                if (seen.Count == jobs.Count)
                {
                    Console.Out.WriteLine($"All {jobs.Count} donor(s) registered in {clock.Elapsed.TotalSeconds:0.0} s.");
                    return 0;
                }
            }

            var gone = jobs.Except(seen).ToList();
            var queued = await SlurmJobs.StillQueuedAsync(gone, cancellationToken);
            var ended = gone.Except(queued.Select(j => j.Id)).ToList();
            if (ended.Count > 0)
                return await SlurmCommand.FailAsync("donate", $"donor job(s) {string.Join(" ", ended)} ended before registering; see {spec.JobName}-JOBID.out in {Path.GetFullPath(spec.LogDirectory)}.");
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }

        return await SlurmCommand.FailAsync("donate", $"only {seen.Count} of {jobs.Count} donor(s) registered within {timeout.TotalSeconds:0} s; pending jobs wait for free nodes (`squeue -n {spec.JobName}`).");
    }
}
