using System.CommandLine;
using RemoteMem.Cli.Internal;
using RemoteMem.Client;
using RemoteMem.Perf.Suite;
using RemoteMem.Wire;
using Spectre.Console;

// The perf suite: `dotnet run -c Release --project perf/RemoteMem.Perf [-- --quick]`.
var quick = new Option<bool>("--quick") { Description = "Small sizes and short runs (under two minutes here); for smoke tests and a first look." };
var sizes = new Option<string>("--sizes") { Description = "Block sizes for the throughput experiments.", DefaultValueFactory = _ => "4KiB,64KiB,1MiB,4MiB" };
var duration = new Option<string>("--duration") { Description = "Time per throughput measurement: 500ms, 2s, ...", DefaultValueFactory = _ => "2s" };
var donors = new Option<int>("--donors") { Description = "Donor processes of the local cluster.", DefaultValueFactory = _ => 2 };
var transport = new Option<string>("--transport") { Description = "Data paths to measure: all (default), tcp (the managed transport's experiments), or fabric (libfabric over tcp;ofi_rxm and shm, next to raw libfabric).", DefaultValueFactory = _ => "all" };
var manager = new Option<string?>("--manager") { Description = "Measure an existing cluster at host:port (secret from REMOTEMEM_SECRET) instead of starting one." };
var output = new Option<string?>("--out") { Description = "Results folder (default perf/results/<date>-<host>)." };
var only = new Option<string>("--experiments") { Description = $"Experiments to run, comma-separated: {string.Join(", ", Steps.Names)} (default all). segment and array bring in the baselines they are divided by.", DefaultValueFactory = _ => "all" };
var root = new RootCommand("RemoteMem perf suite: GB/s and latency next to baselines measured in the same run.") { quick, sizes, duration, donors, transport, manager, output, only };
root.SetAction(async (parse, cancellationToken) =>
{
    var paths = parse.GetValue(transport)!;
    if (paths is not ("all" or "tcp" or "fabric"))
    {
        await Console.Error.WriteLineAsync($"remotemem-perf: --transport {paths} is not one of: all, tcp, fabric.");
        return 2;
    }

    if (!Steps.TryParse(parse.GetValue(only)!, out var selected, out var unknown))
    {
        await Console.Error.WriteLineAsync($"remotemem-perf: --experiments {unknown} is not one of: {string.Join(", ", Steps.Names)}.");
        return 2;
    }

    bool isQuick = parse.GetValue(quick);
    int[] blockSizes;
    TimeSpan perMeasurement;
    try
    {
        blockSizes = parse.GetValue(sizes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => checked((int)ByteSize.Parse(s))).ToArray();
        perMeasurement = Duration.Parse(parse.GetValue(duration)!);
    }
    catch (Exception ex) when (ex is FormatException or OverflowException)
    {
        await Console.Error.WriteLineAsync("remotemem-perf: " + ex.Message);
        return 2;
    }

    if (isQuick)
    {
        perMeasurement = TimeSpan.FromMilliseconds(Math.Min(perMeasurement.TotalMilliseconds, 300));
        blockSizes = blockSizes.Where(s => s <= 1 << 20).DefaultIfEmpty(64 << 10).ToArray();
    }

    int donorCount = Math.Max(1, parse.GetValue(donors));
    var folder = parse.GetValue(output) ?? Path.Combine(RepositoryRoot(), "perf", "results", $"{DateTime.Now:yyyy-MM-dd-HHmm}-{Environment.MachineName}");
    Directory.CreateDirectory(folder);
    var options = new SuiteOptions(isQuick, blockSizes, perMeasurement, donorCount, folder);
    var report = new Report();
    report.Environment["machine"] = Baselines.Describe();
    report.Environment["mode"] = isQuick ? "quick" : "full";
    report.Environment["started"] = DateTimeOffset.Now.ToString("O");

    long offered = (options.SegmentBytes + 2 * options.ArrayBytes + 4L * Math.Max(64L << 20, options.KvKeys * 2200L)) / donorCount + (256L << 20);
    LocalCluster? cluster = null;
    string endpoint;
    ClusterSecret secret;
    if (parse.GetValue(manager) is { } given)
    {
        endpoint = given;
        secret = ClusterSecret.Resolve(null, null) ?? throw new InvalidOperationException($"Set {ClusterSecret.EnvironmentVariable} to measure an existing cluster.");
        report.Notes.Add($"Measured the existing cluster at {given}; donor CPU and memory figures need a local cluster and are omitted.");
    }
    else
    {
        // Cores for functions, said explicitly: the function experiments hold a warm and a hot lease at once
        // (both on the one donor with --donors 1), and the near-data step one executor on every donor.
        int donorCores = Math.Max(2, Environment.ProcessorCount);
        AnsiConsole.MarkupLine($"Starting a local cluster: a manager and {donorCount} donor processes of {ByteSize.Format(offered)} and {donorCores} cores each...");
        cluster = await LocalCluster.StartAsync(donorCount, offered.ToString(), donorArgs: ["--cores", donorCores.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        endpoint = cluster.ManagerEndpoint;
        secret = cluster.Secret;
    }

    try
    {
        await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = endpoint, Secret = secret }, cancellationToken);
        var experiments = new Experiments(options, report, cluster, client);
        await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn()).StartAsync(async progress =>
        {
            (string Key, string Name, Func<Task> Run)[] managed =
            [
                ("baselines", "baselines (memcpy, raw socket stream, ping-pong)", experiments.BaselinesAsync),
                ("segment", "segment read/write by block size and queue depth", experiments.SegmentsAsync),
                ("array", "RemoteArray sequential, page misses, page hits", experiments.ArraysAsync),
                ("kv", "RemoteKv GET/PUT, cache on and off", experiments.KeyValueAsync),
                ("interference", "interference: a CPU-bound job while donors serve 0.1/0.5/1 GB/s", () => Interference.RunAsync(options, report, client)),
                ("functions", "functions: invocation latency and rate, cold start, hybrid Black-Scholes", () => new FunctionExperiments(options, report, client).RunAsync()),
                ("neardata", "near-data reduction: a sum pulled to the client vs partial sums on the donors", () => NearDataExperiment.RunAsync(options, report, client)),
                ("memory", "resident memory", () => { experiments.Memory(offered); return Task.CompletedTask; }),
            ];
            (string Key, string Name, Func<Task> Run)[] fabric =
            [
                ("fabric", "fabric (tcp;ofi_rxm, shm) next to raw libfabric", () => new FabricExperiments(options, report).RunAsync()),
            ];
            (string Key, string Name, Func<Task> Run)[] byTransport = paths switch { "tcp" => managed, "fabric" => fabric, _ => [.. managed, .. fabric] };
            var steps = byTransport.Where(s => selected.Contains(s.Key)).ToArray();
            var tasks = steps.Select(s => progress.AddTask(s.Name, autoStart: false, maxValue: 1)).ToList();
            for (int i = 0; i < steps.Length; i++)
            {
                tasks[i].StartTask();
                await steps[i].Run();
                tasks[i].Increment(1);
                tasks[i].StopTask();
            }
        });
    }
    finally
    {
        if (cluster is not null) await cluster.DisposeAsync();
    }

    await File.WriteAllTextAsync(Path.Combine(folder, "results.md"), $"# RemoteMem perf results\n\n{report.Environment["machine"]}; {report.Environment["mode"]} run started {report.Environment["started"]}.\n\n{report.ToMarkdown()}");
    await File.WriteAllTextAsync(Path.Combine(folder, "results.json"), report.ToJson());
    Plots.Write(report, folder);

    var table = new Table().AddColumns("figure", "value", "baseline", "ratio", "goal", "result");
    foreach (var f in report.Figures)
        table.AddRow(Markup.Escape($"{f.Experiment}: {f.Name}"), $"{f.Value:0.###} {Markup.Escape(f.Unit)}", f.Baseline is null ? "—" : Markup.Escape($"{f.Baseline:0.###} ({f.BaselineName})"),
            f.Ratio is null ? "—" : $"{f.Ratio:0.00}×", Markup.Escape(f.GoalText), f.Met switch { true => "[green]pass[/]", false => "[yellow]short[/]", null => "—" });
    AnsiConsole.Write(table);
    foreach (var note in report.Notes) AnsiConsole.MarkupLine(Markup.Escape("note: " + note));
    AnsiConsole.MarkupLine($"Results: [bold]{Markup.Escape(folder)}[/] (results.md, results.json, throughput.png, latency-cdf.png)");
    return 0;
});
return await root.Parse(args).InvokeAsync();

static string RepositoryRoot()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "RemoteMem.sln"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}
