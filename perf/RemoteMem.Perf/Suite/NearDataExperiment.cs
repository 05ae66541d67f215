using System.Diagnostics;
using RemoteMem.Client;
using RemoteMem.Client.Functions;
using RemoteMem.Samples.Functions;

namespace RemoteMem.Perf.Suite;

/// <summary>
/// Near-data reduction: the sum of a RemoteArray&lt;double&gt; striped over the donors, (a) pulled to the
/// client element by element (the cache dropped first, so every byte crosses the network) and (b)
/// computed where the data lives, one executor per donor running "partial-sum" over its own segments
/// (leased once, then mapped). Pulls and maps are alternated, best of three each; the lease is timed on
/// its own. The elements are small integers, so every partial sum is exact and both sums must equal
/// what was written, or the step fails.
/// </summary>
internal static class NearDataExperiment
{
    private const int Runs = 3;
    private const int Chunk = 64 << 10; // elements per read or write

    /// <summary>A near-data worker stays hot this long after a map (the lease default, which LeaseNearDataAsync keeps); the pull waits it out.</summary>
    private static readonly TimeSpan HotTimeout = new ExecutorLeaseOptions { Package = null! }.HotTimeout;

    private static double Value(long i) => i % 1001;

    public static async Task RunAsync(SuiteOptions options, Report report, RemoteMemClient client)
    {
        long n = options.NearDataElements;
        await using var array = await client.CreateArrayAsync<double>(n, new RemoteArrayOptions { CacheBytes = 4L << 20, StripeCount = options.Donors });
        var buffer = new double[Chunk];
        double written = 0;
        for (long i = 0; i < n; i += Chunk)
        {
            int count = (int)Math.Min(Chunk, n - i);
            for (int k = 0; k < count; k++) written += buffer[k] = Value(i + k);
            await array.WriteAsync(i, buffer.AsMemory(0, count));
        }

        await array.FlushAsync();

        // Leased once: an executor process on each donor that holds data (and the package upload, unless
        // an earlier step left it on the donors).
        var package = FunctionPackage.FromAssembly(typeof(PartialSum).Assembly);
        var clock = Stopwatch.StartNew();
        await using var executors = await array.LeaseNearDataAsync(client, package);
        var lease = clock.Elapsed;
        long uploaded = executors.Leases.Sum(l => l.ColdStart.PackageBytesUploaded);

        TimeSpan pull = TimeSpan.MaxValue, map = TimeSpan.MaxValue, firstMap = TimeSpan.Zero;
        for (int run = 0; run < Runs; run++)
        {
            await array.RefreshAsync(0, n);
            clock.Restart();
            double pulled = 0;
            for (long i = 0; i < n; i += Chunk)
            {
                int count = (int)Math.Min(Chunk, n - i);
                await array.ReadAsync(i, buffer.AsMemory(0, count));
                foreach (double value in buffer.AsSpan(0, count)) pulled += value;
            }

            pull = clock.Elapsed < pull ? clock.Elapsed : pull;

            clock.Restart();
            var partials = await executors.MapAsync<long, double>("partial-sum", n);
            var elapsed = clock.Elapsed;
            map = elapsed < map ? elapsed : map;
            if (run == 0) firstMap = elapsed;
            double near = partials.Sum();
            if (pulled != written || near != written)
                throw new InvalidOperationException($"Near-data reduction, run {run + 1}: the sums differ: written {written:R}, pulled {pulled:R}, near the data {near:R} ({string.Join(" + ", partials)}).");

            // The workers spin for their hot timeout after a map: let them block before the next pull,
            // which would otherwise share its cores with them.
            await Task.Delay(HotTimeout + TimeSpan.FromMilliseconds(50));
        }

        string what = $"{n:N0} doubles ({Experiments.Label(n * sizeof(double))}), {executors.Leases.Count} donor(s)";
        report.Add(new Figure("neardata", $"sum of {what}: pulled to the client (best of {Runs})", "ms", pull.TotalMilliseconds, HigherIsBetter: false));
        report.Add(new Figure("neardata", $"sum of {what}: near the data, partial sums (best of {Runs} maps)", "ms", map.TotalMilliseconds, false,
            "pulled to the client", pull.TotalMilliseconds));
        report.Add(new Figure("neardata", $"near-data executors leased once ({executors.Leases.Count} executor process(es) started)", "ms", lease.TotalMilliseconds, false,
            "pulled to the client", pull.TotalMilliseconds));
        report.Add(new Figure("neardata", "near the data: GB/s summed", "GB/s", n * sizeof(double) / map.TotalSeconds / 1e9,
            BaselineName: "pulled to the client", Baseline: n * sizeof(double) / pull.TotalSeconds / 1e9));
        double saved = (pull - map).TotalMilliseconds;
        string breakEven = saved > 0 ? $"the lease pays for itself after {Math.Ceiling(lease.TotalMilliseconds / saved):0} map(s)" : "a map is not faster than the pull here";
        report.Notes.Add($"Near-data reduction: {what}; every sum equal to the {written:N0} written. Lease once {lease.TotalMilliseconds:0} ms ({uploaded / 1024.0:0.#} KiB of package uploaded), "
            + $"first map {firstMap.TotalMilliseconds:0.0} ms, best map {map.TotalMilliseconds:0.0} ms, best pull {pull.TotalMilliseconds:0.0} ms: {breakEven}.");
    }
}
