using System.CommandLine;
using System.Text.Json;
using RemoteMem.Cli.Slurm;
using RemoteMem.Wire;
using Spectre.Console;

namespace RemoteMem.Cli.Commands.Slurm;

/// <summary>`remotemem slurm scan`: the idle and partly used nodes, with the cores and memory Slurm can still hand out.</summary>
internal static class ScanCommand
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true };

    public static Command Create()
    {
        var partition = new Option<string?>("--partition", "-p") { Description = "Only nodes of this partition (comma-separated list allowed)." };
        var json = new Option<bool>("--json") { Description = "Print the nodes as JSON." };
        var command = new Command("scan", "List idle and mixed nodes with free cores and allocatable memory (configured minus allocated), from sinfo.")
        {
            partition, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            IReadOnlyList<SlurmNode> nodes;
            try
            {
                nodes = await ScanAsync(parse.GetValue(partition), cancellationToken);
            }
            catch (SlurmException ex)
            {
                return await SlurmCommand.FailAsync("scan", ex.Message);
            }

            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(nodes.Select(n => new
                {
                    node = n.Name, state = n.State, freeCores = n.IdleCores, cores = n.TotalCores, memoryMiB = n.MemoryMiB,
                    allocatedMiB = n.AllocatedMiB, allocatableMiB = n.AllocatableMiB, freeMiB = n.FreeMiB, partitions = n.Partitions,
                }), Json));
                return 0;
            }

            Render(nodes, parse.GetValue(partition));
            return 0;
        });
        return command;
    }

    public static async Task<IReadOnlyList<SlurmNode>> ScanAsync(string? partition, CancellationToken cancellationToken)
    {
        List<string> args = ["-N", "-h", "-t", "idle,mixed", "-O", SlurmNode.SinfoFormat];
        if (partition is not null) args.AddRange(["-p", partition]);
        return SlurmNode.Parse(await SlurmTool.RunAsync("sinfo", args, null, cancellationToken));
    }

    private static void Render(IReadOnlyList<SlurmNode> nodes, string? partition)
    {
        if (nodes.Count == 0)
        {
            Console.Out.WriteLine(partition is null
                ? "No idle or mixed nodes: Slurm has nothing to lend right now."
                : $"No idle or mixed nodes in partition {partition} (`sinfo -s` lists the partitions).");
            return;
        }

        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
        var table = new Table().Title("Idle and mixed nodes");
        foreach (var column in new[] { "node", "state", "free cores", "allocatable memory", "free memory (hint)", "partitions" }) table.AddColumn(column);
        foreach (var n in nodes)
        {
            table.AddRow(Markup.Escape(n.Name), Markup.Escape(n.State), $"{n.IdleCores}/{n.TotalCores}", ByteSize.Format(n.AllocatableMiB << 20),
                n.FreeMiB is { } free ? ByteSize.Format(free << 20) : "n/a", Markup.Escape(string.Join(",", n.Partitions)));
        }

        AnsiConsole.Write(table);
        Console.Out.WriteLine($"{nodes.Count} node(s); {nodes.Sum(n => n.IdleCores)} free cores, {ByteSize.Format(nodes.Sum(n => n.AllocatableMiB) << 20)} allocatable.");
    }
}
