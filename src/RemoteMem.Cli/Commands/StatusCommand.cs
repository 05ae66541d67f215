using System.CommandLine;
using RemoteMem.Client;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;
using Spectre.Console;

namespace RemoteMem.Cli.Commands;

/// <summary>`remotemem status`: the donors and leases of a running cluster.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var manager = new Option<string>("--manager") { Description = "The manager's host:port.", DefaultValueFactory = _ => "127.0.0.1:7600" };
        var json = new Option<bool>("--json") { Description = "Print the raw report as JSON." };
        var command = new Command("status", "Show the cluster's donors (address, offered and leased bytes, cores, health) and leases.")
        {
            manager, json, Internal.ServiceHost.SecretFileOption,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            StatusReport report;
            try
            {
                await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions
                {
                    Manager = parse.GetValue(manager)!,
                    SecretFile = parse.GetValue(Internal.ServiceHost.SecretFileOption),
                    ControlRetries = 1,
                    ControlTimeout = TimeSpan.FromSeconds(5),
                }, cancellationToken);
                report = await client.GetStatusAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is RemoteMemException or InvalidOperationException or FormatException or FileNotFoundException)
            {
                await Console.Error.WriteLineAsync("remotemem status: " + ex.Message);
                return 1;
            }

            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(report.ToJson());
                return 0;
            }

            Render(report);
            return 0;
        });
        return command;
    }

    private static void Render(StatusReport report)
    {
        // Piped output (a log, a script) has no terminal width; do not squeeze the tables to 80 columns.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
        var donors = new Table().Title($"Donors of {report.ManagerEndpoint}");
        foreach (var column in new[] { "id", "endpoint", "node", "health", "offered", "leased", "resident", "cores used", "gpus used", "executors", "segments", "heartbeat", "job" })
            donors.AddColumn(column);
        foreach (var d in report.Donors)
        {
            var health = d.Health switch { DonorHealth.Alive => "[green]alive[/]", DonorHealth.Dead => "[red]dead[/]", DonorHealth.Draining => "[yellow]draining[/]", _ => "[grey]left[/]" };
            var endpoint = d.Name == d.Endpoint ? d.Endpoint : $"{d.Endpoint} ({d.Name})";
            donors.AddRow(d.Id.ToString(), Markup.Escape(endpoint), Markup.Escape(d.Node), health,
                ByteSize.Format(d.OfferedBytes), ByteSize.Format(d.LeasedBytes), ByteSize.Format(d.ResidentBytes),
                $"{d.UsedCores}/{d.Cores}", $"{d.UsedGpus}/{d.Gpus}", d.Executors.ToString(), d.Segments.ToString(), $"{d.LastHeartbeatMsAgo} ms ago", Markup.Escape(d.Job ?? ""));
        }

        AnsiConsole.Write(donors);
        var leases = new Table().Title("Leases");
        foreach (var column in new[] { "id", "size", "stripe", "donors", "expires in", "state" }) leases.AddColumn(column);
        foreach (var l in report.Leases)
        {
            leases.AddRow(l.Id.ToString(), ByteSize.Format(l.Bytes), ByteSize.Format(l.StripeSize), string.Join(",", l.DonorIds),
                $"{l.ExpiresInMs / 1000.0:0.0} s", l.Lost ? "[red]lost[/]: " + Markup.Escape(l.LostReason ?? "") : l.Degraded ? $"[yellow]{(l.Rebuilding ? "rebuilding" : "degraded")}[/] (replicas {l.Replicas})" : l.Replicas > 1 ? $"[green]active[/] (replicas {l.Replicas})" : "[green]active[/]");
        }

        AnsiConsole.Write(leases);
    }
}
