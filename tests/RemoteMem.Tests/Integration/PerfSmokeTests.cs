using System.Diagnostics;
using System.Text.Json;
using RemoteMem.Tests.Infrastructure;

namespace RemoteMem.Tests.Integration;

/// <summary>The perf suite's quick mode on tiny sizes: it produces its table, JSON and plots with sane numbers (never checks speed).</summary>
[Collection(Processes.Name)]
public sealed class PerfSmokeTests
{
    [Fact]
    public async Task Quick_mode_writes_results_with_sane_figures_and_plots()
    {
        var folder = Path.Combine(Path.GetTempPath(), "remotemem-perf-smoke-" + Guid.NewGuid().ToString("N"));
        try
        {
            var run = await DotnetProgram.RunAsync("RemoteMem.Perf.dll", null, TimeSpan.FromMinutes(4), "--quick", "--sizes", "64KiB", "--duration", "100ms", "--donors", "1", "--out", folder);
            Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);

            foreach (var file in new[] { "results.md", "results.json", "throughput.png", "latency-cdf.png" })
                Assert.True(new FileInfo(Path.Combine(folder, file)) is { Exists: true, Length: > 100 }, $"{file} missing or empty");
            var png = await File.ReadAllBytesAsync(Path.Combine(folder, "throughput.png"));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);

            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "results.json")));
            var figures = json.RootElement.GetProperty("figures").EnumerateArray().ToList();
            foreach (var name in new[] { "raw socket stream 64 KiB", "segment read 64 KiB QD16", "sequential read 1 MiB blocks (cold)", "4 KiB random page miss p50", "page hit (8-byte read)", "GET 1 KiB, 16 in flight, cache on",
                "hot invocation 1 B p50", "warm invocation 1 B p50", "cold start (first lease): total" })
            {
                var figure = figures.SingleOrDefault(f => f.GetProperty("name").GetString() == name);
                Assert.True(figure.ValueKind == JsonValueKind.Object, $"figure '{name}' missing");
                double value = figure.GetProperty("value").GetDouble();
                Assert.True(double.IsFinite(value) && value > 0, $"figure '{name}' is {value}");
            }

            Assert.Contains("| segment |", await File.ReadAllTextAsync(Path.Combine(folder, "results.md")));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
