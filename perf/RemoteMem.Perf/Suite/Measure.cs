using System.Diagnostics;

namespace RemoteMem.Perf.Suite;

/// <summary>Timing helpers: run an operation for a duration, collect latencies, read a process's CPU and memory.</summary>
internal static class Measure
{
    /// <summary>Runs <paramref name="parallel"/> loops of <paramref name="operation"/> (returning bytes moved) for <paramref name="duration"/>; bytes per second.</summary>
    public static async Task<double> ThroughputAsync(int parallel, TimeSpan duration, Func<int, long, ValueTask<long>> operation)
    {
        var (bytes, seconds) = await RunAsync(parallel, duration, operation);
        return bytes / seconds;
    }

    /// <summary>
    /// Throughput of two operations run in alternating slices of <paramref name="slice"/> (ABBA order,
    /// <paramref name="pairs"/> slices each), each side's bytes over its own time. On a shared host the
    /// best of a few whole rounds per side put the sides seconds apart and drifted by more than the
    /// difference being compared (a raw figure at 0.55x of the RemoteMem one on the next line).
    /// </summary>
    public static async Task<(double First, double Second)> PairedThroughputAsync(int parallel, TimeSpan slice, int pairs, Func<int, long, ValueTask<long>> first, Func<int, long, ValueTask<long>> second)
    {
        double firstBytes = 0, firstSeconds = 0, secondBytes = 0, secondSeconds = 0;
        for (int pair = 0; pair < pairs; pair++)
        {
            bool firstLeads = (pair & 1) == 0;
            for (int turn = 0; turn < 2; turn++)
            {
                bool isFirst = firstLeads == (turn == 0);
                var (bytes, seconds) = await RunAsync(parallel, slice, isFirst ? first : second);
                if (isFirst) (firstBytes, firstSeconds) = (firstBytes + bytes, firstSeconds + seconds);
                else (secondBytes, secondSeconds) = (secondBytes + bytes, secondSeconds + seconds);
            }
        }

        return (firstBytes / firstSeconds, secondBytes / secondSeconds);
    }

    // Runs the loops for the duration: bytes moved and the seconds it took (the last operations overrun it).
    private static async Task<(long Bytes, double Seconds)> RunAsync(int parallel, TimeSpan duration, Func<int, long, ValueTask<long>> operation)
    {
        var clock = Stopwatch.StartNew();
        long total = 0;
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(worker => Task.Run(async () =>
        {
            long moved = 0;
            for (long i = 0; clock.Elapsed < duration; i++) moved += await operation(worker, i);
            Interlocked.Add(ref total, moved);
        })));
        return (total, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Latencies in microseconds of <paramref name="count"/> sequential operations after <paramref name="warmup"/>.</summary>
    public static async Task<double[]> LatenciesAsync(int warmup, int count, Func<int, ValueTask> operation)
    {
        var latencies = new double[count];
        await TimeAsync(operation, warmup, latencies);
        Array.Sort(latencies);
        return latencies;
    }

    /// <summary>
    /// Latencies of two operations taken in alternating blocks of <paramref name="block"/> samples (ABBA
    /// order), each block after <paramref name="warmup"/> unmeasured runs: on a shared host a baseline
    /// measured before or after drifts by more than the difference being compared, while alternating
    /// sample by sample keeps both paths' threads busy at once (two fabric endpoints' progress threads
    /// then compete for two cores). Microseconds, each array sorted. An A/A run (raw libfabric on both
    /// sides) gave p50s within 2% of each other.
    /// </summary>
    public static async Task<(double[] First, double[] Second)> PairedLatenciesAsync(int warmup, int count, int block, Func<ValueTask> first, Func<ValueTask> second)
    {
        var a = new double[count];
        var b = new double[count];
        for (int done = 0, round = 0; done < count; done += block, round++)
        {
            int n = Math.Min(block, count - done);
            bool firstLeads = (round & 1) == 0;
            var (lead, follow) = firstLeads ? (first, second) : (second, first);
            await TimeAsync(_ => lead(), warmup, (firstLeads ? a : b).AsMemory(done, n));
            await TimeAsync(_ => follow(), warmup, (firstLeads ? b : a).AsMemory(done, n));
        }

        Array.Sort(a);
        Array.Sort(b);
        return (a, b);
    }

    // Runs `warmup` untimed operations, then times one per element of `latencies` (the operation gets its running index).
    private static async ValueTask TimeAsync(Func<int, ValueTask> operation, int warmup, Memory<double> latencies)
    {
        for (int i = 0; i < warmup; i++) await operation(i);
        for (int i = 0; i < latencies.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await operation(warmup + i);
            latencies.Span[i] = MicrosecondsSince(start);
        }
    }

    /// <summary>
    /// Microseconds since a <see cref="Stopwatch.GetTimestamp"/>, at the timestamp's resolution (1 ns on
    /// Linux): a TimeSpan would round to 100 ns, a third of what the shm read latency rows compare.
    /// </summary>
    public static double MicrosecondsSince(long start) => (Stopwatch.GetTimestamp() - start) * 1e6 / Stopwatch.Frequency;

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
