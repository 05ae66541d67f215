using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using RemoteMem.Cli.Internal;
using RemoteMem.Services;
using RemoteMem.Services.Manager;

namespace RemoteMem.Cli.Commands;

/// <summary>`remotemem manager`: the cluster's registry of donors and leases.</summary>
internal static class ManagerCommand
{
    public static Command Create()
    {
        var listen = new Option<string?>("--listen") { Description = "host:port to listen on (default 0.0.0.0:7600; port 0 picks a free one)." };
        var heartbeat = new Option<string?>("--heartbeat-interval") { Description = "How often donors report (default 1s)." };
        var donorTimeout = new Option<string?>("--donor-timeout") { Description = "Silence after which a donor is declared dead (default 5s)." };
        var leaseTtl = new Option<string?>("--lease-ttl") { Description = "Default lease lifetime between renewals (default 30s)." };
        var stripe = new Option<string?>("--stripe-size") { Description = "Default stripe size (default 512KiB)." };
        var stateFile = new Option<string?>("--state-file") { Description = "Keep the manager's state (donors, leases) in this file so that leases survive a manager restart (default: memory only)." };
        var rebuildBandwidth = new Option<string?>("--rebuild-bandwidth") { Description = "Cap on the bytes per second a rebuild of lost replicas copies, e.g. 500MB (default), 0 for none." };
        var spillDir = new Option<string?>("--spill-dir") { Description = "A folder every node sees where a drain writes the data of leases that allow it (AllowSpill) when no donor has room (default: none)." };
        var addressFile = new Option<string?>("--address-file") { Description = "Write the manager's host:port to this file once listening (in a folder all nodes see; donors started with --manager-file read it). Removed on a clean stop." };
        var command = new Command("manager", "Run the cluster manager: donor registry, failure detection, placement and leases.")
        {
            listen, heartbeat, donorTimeout, leaseTtl, stripe, addressFile, stateFile, spillDir, rebuildBandwidth, ServiceHost.SecretFileOption, ServiceHost.ConfigOption, ServiceHost.LogLevelOption,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>
            {
                ["Manager:Listen"] = parse.GetValue(listen),
                ["Manager:StripeSize"] = parse.GetValue(stripe),
                ["Manager:StateFile"] = parse.GetValue(stateFile),
                ["Manager:SpillDirectory"] = parse.GetValue(spillDir),
                ["Manager:RebuildBandwidth"] = parse.GetValue(rebuildBandwidth),
            };
            try
            {
                if (parse.GetValue(heartbeat) is { } h) overrides["Manager:HeartbeatInterval"] = Duration.ToConfig(h);
                if (parse.GetValue(donorTimeout) is { } t) overrides["Manager:DonorTimeout"] = Duration.ToConfig(t);
                if (parse.GetValue(leaseTtl) is { } l) overrides["Manager:LeaseTtl"] = Duration.ToConfig(l);
            }
            catch (FormatException ex)
            {
                await Console.Error.WriteLineAsync("remotemem manager: " + ex.Message);
                return 2;
            }

            var builder = ServiceHost.CreateBuilder(parse, overrides);
            builder.Services.AddRemoteMemManager(builder.Configuration);
            using var host = builder.Build();
            var file = parse.GetValue(addressFile);
            var reachableAt = "";
            int code = await ServiceHost.RunAsync(host, h =>
            {
                var service = h.Services.GetRequiredService<ManagerService>();
                if (file is not null)
                {
                    reachableAt = AddressFile.Reachable(service.Endpoint);
                    AddressFile.Write(file, reachableAt);
                }

                Console.Out.WriteLine($"READY manager {service.Endpoint}");
                Console.Out.Flush();
                return Task.CompletedTask;
            });
            if (file is not null && reachableAt.Length > 0) AddressFile.RemoveIfOurs(file, reachableAt);
            return code;
        });
        return command;
    }
}
