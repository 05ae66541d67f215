using ScottPlot;

namespace RemoteMem.Perf.Suite;

/// <summary>PNG plots of a report: GB/s versus block size per series, and latency CDFs.</summary>
internal static class Plots
{
    public static void Write(Report report, string directory)
    {
        var throughput = new Plot();
        foreach (var (name, points) in report.Series.OrderBy(s => s.Key))
        {
            var line = throughput.Add.Scatter(points.Select(p => Math.Log2(p.X)).ToArray(), points.Select(p => p.Y).ToArray());
            line.LegendText = name;
        }

        throughput.Title("Throughput by block size (loopback)");
        throughput.XLabel("block size (log2 bytes: 12 = 4 KiB, 20 = 1 MiB)");
        throughput.YLabel("GB/s");
        throughput.ShowLegend();
        throughput.SavePng(Path.Combine(directory, "throughput.png"), 900, 550);

        var cdf = new Plot();
        foreach (var (name, samples) in report.Samples.OrderBy(s => s.Key))
        {
            if (samples.Length == 0) continue;
            var ys = Enumerable.Range(1, samples.Length).Select(i => (double)i / samples.Length).ToArray();
            var line = cdf.Add.Scatter(samples.Select(Math.Log10).ToArray(), ys);
            line.MarkerSize = 0;
            line.LegendText = name;
        }

        cdf.Title("Latency CDFs");
        cdf.XLabel("latency (log10 µs: 1 = 10 µs, 2 = 100 µs)");
        cdf.YLabel("fraction of operations");
        cdf.ShowLegend();
        cdf.SavePng(Path.Combine(directory, "latency-cdf.png"), 900, 550);
    }
}
