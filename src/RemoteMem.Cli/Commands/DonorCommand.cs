using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using RemoteMem.Cli.Internal;
using RemoteMem.Services;
using RemoteMem.Services.Donor;

namespace RemoteMem.Cli.Commands;

/// <summary>`remotemem donor`: lends this node's memory to the cluster.</summary>
internal static class DonorCommand
{
    /// <summary>The environment variable a batch script can set instead of passing --manager.</summary>
    public const string ManagerVariable = "REMOTEMEM_MANAGER";

    public static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    public static Command Create()
    {
        var manager = new Option<string?>("--manager") { Description = "The manager's host:port (or set REMOTEMEM_MANAGER, or use --manager-file)." };
        var managerFile = new Option<string?>("--manager-file") { Description = "A file holding the manager's host:port, written by `remotemem manager --address-file` in a shared folder; waited for up to 2 minutes." };
        var drainGrace = new Option<string?>("--drain-grace") { Description = "On SIGTERM, how long to spend moving this donor's segments to other donors before leaving (default 30s; 0 leaves at once). Keep it below the batch system's grace time." };
        var transport = new Option<string?>("--transport") { Description = "Data path: tcp (default) or fabric (also register the pool with libfabric for one-sided access; TCP stays on)." };
        var provider = new Option<string?>("--provider") { Description = "libfabric provider for --transport fabric: tcp;ofi_rxm (default), shm, verbs;ofi_rxm, efa, cxi." };
        var progress = new Option<string?>("--fabric-progress") { Description = "How the fabric progress thread waits: blocking (default) or spinning." };
        var job = new Option<string?>("--job") { Description = "The batch job shown in status (default: the Slurm job and step from SLURM_JOB_ID/SLURM_STEP_ID)." };
        var listen = new Option<string?>("--listen") { Description = "host:port to serve clients on (default 0.0.0.0:7601; port 0 picks a free one)." };
        var advertise = new Option<string?>("--advertise") { Description = "host:port clients should use, when it differs from --listen." };
        var memory = new Option<string?>("--memory") { Description = "Memory to donate, with units, e.g. 16GiB (default 1GiB). Committed only as it is used." };
        var cores = new Option<int?>("--cores") { Description = "Cores to offer for functions (default: all)." };
        var gpus = new Option<int?>("--gpus") { Description = "GPUs to offer for functions (default 0). A GPU lease gets ILGPU's best device: CUDA, OpenCL, else its CPU accelerator." };
        var packages = new Option<string?>("--package-dir") { Description = "Where function packages are kept by SHA-256 (default: remotemem-packages-USER in the temp folder)." };
        var executorCommand = new Option<string?>("--executor-command") { Description = "How to run remotemem for executors (default: the remotemem next to this donor); `executor` is appended." };
        var name = new Option<string?>("--name") { Description = "Name shown in status (default: the advertised endpoint)." };
        var node = new Option<string?>("--node") { Description = "Node name (default: the Slurm node name inside a job, else the host name)." };
        var command = new Command("donor", "Run a memory donor: serve leased ranges of a native memory pool to clients.")
        {
            manager, managerFile, listen, advertise, memory, cores, gpus, packages, executorCommand, name, node, job, drainGrace, transport, provider, progress, ServiceHost.SecretFileOption, ServiceHost.ConfigOption, ServiceHost.LogLevelOption,
        };
        command.Subcommands.Add(DrainCommand.Create());
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>
            {
                ["Donor:Manager"] = parse.GetValue(manager) ?? NonEmpty(Environment.GetEnvironmentVariable(ManagerVariable)),
                ["Donor:ManagerFile"] = parse.GetValue(managerFile),
                ["Donor:Job"] = parse.GetValue(job),
                ["Donor:DataTransport"] = parse.GetValue(transport),
                ["Donor:FabricProvider"] = parse.GetValue(provider),
                ["Donor:FabricProgress"] = parse.GetValue(progress),
                ["Donor:Listen"] = parse.GetValue(listen),
                ["Donor:Advertise"] = parse.GetValue(advertise),
                ["Donor:Memory"] = parse.GetValue(memory),
                ["Donor:Cores"] = parse.GetValue(cores)?.ToString(),
                ["Donor:Gpus"] = parse.GetValue(gpus)?.ToString(),
                ["Donor:PackageDirectory"] = parse.GetValue(packages),
                ["Donor:ExecutorCommand"] = parse.GetValue(executorCommand),
                ["Donor:Name"] = parse.GetValue(name),
                ["Donor:Node"] = parse.GetValue(node),
            };
            try
            {
                if (parse.GetValue(drainGrace) is { } grace) overrides["Donor:DrainGrace"] = Duration.ToConfig(grace);
            }
            catch (FormatException ex)
            {
                await Console.Error.WriteLineAsync("remotemem donor: " + ex.Message);
                return 2;
            }

            var builder = ServiceHost.CreateBuilder(parse, overrides);
            builder.Services.AddRemoteMemDonor(builder.Configuration);
            using var host = builder.Build();
            return await ServiceHost.RunAsync(host, h =>
            {
                var service = h.Services.GetRequiredService<DonorService>();
                _ = service.Ready.ContinueWith(t =>
                {
                    Console.Out.WriteLine($"READY donor {t.Result} id={service.Core.DonorId}");
                    Console.Out.Flush();
                }, CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                return Task.CompletedTask;
            });
        });
        return command;
    }
}
