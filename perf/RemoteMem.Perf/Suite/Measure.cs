using System.Diagnostics;

namespace RemoteMem.Perf.Suite;

/// <summary>Timing helpers: run an operation for a duration, collect latencies, read a process's CPU and memory.</summary>
internal static class Measure
{
    /// <summary>Runs <paramref name="parallel"/> loops of <paramref name="operation"/> (returning bytes moved) for <paramref name="duration"/>; bytes per second.</summary>
    public static async Task<double> ThroughputAsync(int parallel, TimeSpan duration, Func<int, long, ValueTask<long>> operation)
    {
        var clock = Stopwatch.StartNew();
        long total = 0;
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(worker => Task.Run(async () =>
        {
            long moved = 0;
            for (long i = 0; clock.Elapsed < duration; i++) moved += await operation(worker, i);
            Interlocked.Add(ref total, moved);
        })));
        return total / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Latencies in microseconds of <paramref name="count"/> sequential operations after <paramref name="warmup"/>.</summary>
    public static async Task<double[]> LatenciesAsync(int warmup, int count, Func<int, ValueTask> operation)
    {
        for (int i = 0; i < warmup; i++) await operation(i);
        var latencies = new double[count];
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await operation(warmup + i);
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(latencies);
        return latencies;
    }

    public static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    /// <summary>User + system CPU seconds of a process, from /proc.</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[11] and [12] are utime and stime (fields 14 and 15 of the whole line), in clock ticks.
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
    }

    /// <summary>Peak resident set size (VmHWM) of a process, in bytes.</summary>
    public static long PeakResident(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) return long.Parse(line[6..].Trim().Split(' ')[0]) * 1024;
        return 0;
    }
}
