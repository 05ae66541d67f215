using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using RemoteMem.Cli.Internal;
using RemoteMem.Services;
using RemoteMem.Services.Donor;

namespace RemoteMem.Cli.Commands;

/// <summary>`remotemem donor`: lends this node's memory to the cluster.</summary>
internal static class DonorCommand
{
    public static Command Create()
    {
        var manager = new Option<string?>("--manager") { Description = "The manager's host:port (required, here or as Donor:Manager)." };
        var listen = new Option<string?>("--listen") { Description = "host:port to serve clients on (default 0.0.0.0:7601; port 0 picks a free one)." };
        var advertise = new Option<string?>("--advertise") { Description = "host:port clients should use, when it differs from --listen." };
        var memory = new Option<string?>("--memory") { Description = "Memory to donate, with units, e.g. 16GiB (default 1GiB). Committed only as it is used." };
        var cores = new Option<int?>("--cores") { Description = "Cores to offer for functions (default: all)." };
        var gpus = new Option<int?>("--gpus") { Description = "GPUs to offer for functions (default 0)." };
        var name = new Option<string?>("--name") { Description = "Name shown in status (default: the advertised endpoint)." };
        var node = new Option<string?>("--node") { Description = "Node name (default: host name)." };
        var command = new Command("donor", "Run a memory donor: serve leased ranges of a native memory pool to clients.")
        {
            manager, listen, advertise, memory, cores, gpus, name, node, ServiceHost.SecretFileOption, ServiceHost.ConfigOption, ServiceHost.LogLevelOption,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>
            {
                ["Donor:Manager"] = parse.GetValue(manager),
                ["Donor:Listen"] = parse.GetValue(listen),
                ["Donor:Advertise"] = parse.GetValue(advertise),
                ["Donor:Memory"] = parse.GetValue(memory),
                ["Donor:Cores"] = parse.GetValue(cores)?.ToString(),
                ["Donor:Gpus"] = parse.GetValue(gpus)?.ToString(),
                ["Donor:Name"] = parse.GetValue(name),
                ["Donor:Node"] = parse.GetValue(node),
            };
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
