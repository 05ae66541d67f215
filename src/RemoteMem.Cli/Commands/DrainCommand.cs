using System.CommandLine;
using System.Diagnostics;
using RemoteMem.Cli.Internal;
using RemoteMem.Client;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Cli.Commands;

/// <summary>`remotemem donor drain ID`: an operator takes a donor out of service without losing data.</summary>
internal static class DrainCommand
{
    public static Command Create()
    {
        var id = new Argument<ulong>("donor-id") { Description = "The donor's id, as `remotemem status` shows it." };
        var manager = new Option<string>("--manager") { Description = "The manager's host:port.", DefaultValueFactory = _ => "127.0.0.1:7600" };
        var timeout = new Option<string>("--wait-timeout") { Description = "How long to wait for the donor to leave.", DefaultValueFactory = _ => "2m" };
        var command = new Command("drain", "Ask a donor to drain and leave, as SIGTERM would: its segments move to other donors, then it exits. Waits until it has left.")
        {
            id, manager, timeout, ServiceHost.SecretFileOption,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            ulong donorId = parse.GetValue(id);
            try
            {
                var limit = Duration.Parse(parse.GetValue(timeout)!);
                await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions
                {
                    Manager = parse.GetValue(manager)!,
                    SecretFile = parse.GetValue(ServiceHost.SecretFileOption),
                    ControlRetries = 1,
                }, cancellationToken);
                var donor = (await client.GetStatusAsync(cancellationToken)).Donors.FirstOrDefault(d => d.Id == donorId);
                await client.DrainDonorAsync(donorId, cancellationToken);
                Console.Out.WriteLine($"Donor {donorId} ({donor?.Endpoint}) is draining: {donor?.Segments ?? 0} segment(s) to move...");
                var clock = Stopwatch.StartNew();
                int lastSegments = -1;
                while (clock.Elapsed < limit)
                {
                    var now = (await client.GetStatusAsync(cancellationToken)).Donors.First(d => d.Id == donorId);
                    if (now.Health is DonorHealth.Left or DonorHealth.Dead)
                    {
                        // A lease lost with the donor still lists it among its donors.
                        var lost = (await client.GetStatusAsync(cancellationToken)).Leases.Count(l => l.Lost && l.DonorIds.Contains(donorId));
                        Console.Out.WriteLine($"Donor {donorId} has left ({clock.Elapsed.TotalSeconds:0.0} s); leases lost with it: {lost}.");
                        return lost == 0 ? 0 : 3;
                    }

                    if (now.Segments != lastSegments)
                    {
                        Console.Out.WriteLine($"  {now.Health.ToString().ToLowerInvariant()}: {now.Segments} segment(s) left on it");
                        lastSegments = now.Segments;
                    }

                    await Task.Delay(250, cancellationToken);
                }

                await Console.Error.WriteLineAsync($"remotemem donor drain: donor {donorId} had not left after {limit.TotalSeconds:0} s.");
                return 1;
            }
            catch (Exception ex) when (ex is RemoteMemException or InvalidOperationException or FormatException or FileNotFoundException)
            {
                await Console.Error.WriteLineAsync("remotemem donor drain: " + ex.Message);
                return 1;
            }
        });
        return command;
    }
}
