using System.Buffers;
using System.Text;
using RemoteMem.Cli.Internal;
using RemoteMem.Client;

namespace RemoteMem.Perf.Suite;

/// <summary>RemoteMem's figures, each next to the baseline it should be compared with.</summary>
internal sealed class Experiments(SuiteOptions options, Report report, LocalCluster? cluster, RemoteMemClient client)
{
    private readonly Dictionary<int, double> _stream = [];

    /// <summary>Baselines first: every later figure divides by one of them.</summary>
    public async Task BaselinesAsync()
    {
        foreach (int size in options.BlockSizes)
        {
            double memcpy = Baselines.MemcpyBytesPerSecond(size, options.Duration);
            report.Point("memcpy", size, memcpy / 1e9);
            _stream[size] = await Baselines.SocketStreamBytesPerSecond(size, options.Duration);
            report.Point("raw socket stream", size, _stream[size] / 1e9);
            report.Add(new Figure("baseline", $"memcpy {Label(size)}", "GB/s", memcpy / 1e9));
            report.Add(new Figure("baseline", $"raw socket stream {Label(size)}", "GB/s", _stream[size] / 1e9));
        }

        var rtt4k = await Baselines.PingPongMicroseconds(4096, options.LatencySamples);
        report.Samples["raw TCP round trip 4 KiB (us)"] = rtt4k;
        report.Add(new Figure("baseline", "raw TCP round trip 4 KiB p50", "µs", Measure.Percentile(rtt4k, 0.5), HigherIsBetter: false));
    }

    /// <summary>Raw segment reads and writes (RemoteAllocation, striped over the donors) by block size and queue depth.</summary>
    public async Task SegmentsAsync()
    {
        await using var allocation = await client.AllocateAsync(options.SegmentBytes, new AllocationOptions { StripeCount = options.Donors });
        var buffers = Enumerable.Range(0, 16).Select(_ => GC.AllocateArray<byte>(options.BlockSizes.Max(), pinned: true)).ToArray();
        foreach (var buffer in buffers) Random.Shared.NextBytes(buffer);
        // Touch every page once first: the donors commit memory on first write (page faults), which is
        // a one-time cost the demo reports separately, not the steady state measured here.
        for (long o = 0; o < allocation.Length; o += buffers[0].Length)
            await allocation.WriteAsync(o, buffers[0].AsMemory(0, (int)Math.Min(buffers[0].Length, allocation.Length - o)));
        double cpuBefore = DonorCpu();
        long served = 0;
        foreach (int depth in new[] { 1, 16 })
        {
            foreach (int size in options.BlockSizes)
            {
                long slots = allocation.Length / size;
                foreach (bool write in new[] { true, false })
                {
                    double rate = await Measure.ThroughputAsync(depth, options.Duration, async (worker, i) =>
                    {
                        long offset = (worker * 7919 + i) % slots * size;
                        var memory = buffers[worker].AsMemory(0, size);
                        if (write) await allocation.WriteAsync(offset, memory);
                        else await allocation.ReadAsync(offset, memory);
                        Interlocked.Add(ref served, size);
                        return size;
                    });
                    string name = $"segment {(write ? "write" : "read")} {Label(size)} QD{depth}";
                    report.Point($"segment {(write ? "write" : "read")} QD{depth}", size, rate / 1e9);
                    report.Add(new Figure("segment", name, "GB/s", rate / 1e9, BaselineName: $"raw stream {Label(size)}", Baseline: _stream[size] / 1e9));
                }
            }
        }

        double cpu = DonorCpu() - cpuBefore;
        double gib = served / (double)(1L << 30);
        if (!double.IsNaN(cpu))
            report.Add(new Figure("segment", "donor CPU per GiB served", "CPU s/GiB", cpu / Math.Max(gib, 1e-9), HigherIsBetter: false));
    }

    /// <summary>Slices of each side of a sequential figure (see <see cref="Measure.PairedThroughputAsync"/>).</summary>
    private const int SequentialSlices = 6;

    /// <summary>RemoteArray: cold sequential read and write with 1 MiB blocks, random page misses, random reads in flight, page hits.</summary>
    public async Task ArraysAsync()
    {
        long length = options.ArrayBytes;
        var arrayOptions = new RemoteArrayOptions { CacheBytes = length / 8, StripeCount = options.Donors };
        await using var array = await client.CreateArrayAsync<byte>(length, arrayOptions);
        var block = GC.AllocateArray<byte>(1 << 20, pinned: true);
        long blocks = length / block.Length;
        for (long o = 0; o < length; o += block.Length) await array.WriteAsync(o, block); // first touch, not timed
        await array.FlushAsync();
        // One untimed read pass, so the timed ones run the read path's optimized code, as a long scan would
        // (the first calls of a method run unoptimized code while the JIT works on the same cores). Direct
        // reads leave the cache as it is, so every later pass is cold too.
        await array.RefreshAsync(0, length);
        for (long o = 0; o < length; o += block.Length) await array.ReadAsync(o, block);

        // Each figure alternates with its raw stream in slices (ABBA, as the fabric throughputs): a 512 MiB
        // pass takes a fifth of a second here, and timed in a few passes between two 2 s streams it put
        // reads anywhere between 0.6x and 1.0x within one run. A slice scans on from the array's start.
        async ValueTask<long> ReadBlock(long i)
        {
            await array.ReadAsync(i % blocks * block.Length, block);
            return block.Length;
        }

        async ValueTask<long> WriteBlock(long i)
        {
            await array.WriteAsync(i % blocks * block.Length, block);
            return block.Length;
        }

        var slice = options.Duration / 2;
        double read, write, stream, writeStream, poolRead, poolStream;
        await using (var hot = await RawStream.OpenAsync(block.Length))
        {
            (read, stream) = await Measure.PairedThroughputAsync(1, slice, SequentialSlices, (_, i) => ReadBlock(i), (_, _) => hot.SendAsync());
            (write, writeStream) = await Measure.PairedThroughputAsync(1, slice, SequentialSlices, (_, i) => WriteBlock(i), (_, _) => hot.SendAsync());
        }

        await array.FlushAsync();
        // The raw stream sends one cache-hot block; a donor sends the array's bytes from its pool. The same
        // stream sending consecutive blocks of an array-sized region shows what the source memory costs.
        await using (var fromMemory = await RawStream.OpenAsync(block.Length, sourceBytes: length))
            (poolRead, poolStream) = await Measure.PairedThroughputAsync(1, slice, SequentialSlices, (_, i) => ReadBlock(i), (_, _) => fromMemory.SendAsync());
        report.Notes.Add($"Sequential array passes, alternating with a raw 1 MiB stream in {SequentialSlices} slices of {slice.TotalSeconds:0.##} s each: "
            + $"reads {read / 1e9:0.00} GB/s against {stream / 1e9:0.00}, rewrites {write / 1e9:0.00} against {writeStream / 1e9:0.00}, "
            + $"reads {poolRead / 1e9:0.00} against a stream from {Label(length)} of memory {poolStream / 1e9:0.00}; "
            + $"{array.ReadAhead.Claimed} blocks read ahead, {array.ReadAhead.Dropped} dropped.");
        report.Add(new Figure("array", "sequential read 1 MiB blocks (cold)", "GB/s", read / 1e9, BaselineName: "raw stream 1 MiB (alternating slices)", Baseline: stream / 1e9, GoalRatio: 0.9));
        report.Add(new Figure("array", "sequential rewrite 1 MiB blocks", "GB/s", write / 1e9, BaselineName: "raw stream 1 MiB (alternating slices)", Baseline: writeStream / 1e9, GoalRatio: 0.9));
        report.Add(new Figure("array", "sequential read 1 MiB blocks (cold), next to a stream from memory", "GB/s", poolRead / 1e9,
            BaselineName: $"raw stream 1 MiB from {Label(length)} of memory (alternating slices)", Baseline: poolStream / 1e9));

        await using var pages = await client.CreateArrayAsync<byte>(length, new RemoteArrayOptions { PageSize = 4096, CacheBytes = 1 << 20, ReadAheadPages = 0, StripeCount = options.Donors });
        // Misses of pages that hold data (written, flushed, dropped from the cache), as in a real
        // workload: never-written pages would add the donors' first-touch page faults to every miss.
        for (long o = 0; o < length; o += block.Length) await pages.WriteAsync(o, block);
        await pages.FlushAsync();
        await pages.RefreshAsync(0, length);
        var random = new Random(7);
        var one = new byte[8];
        // Misses and raw round trips alternate in blocks of 100 (as the fabric latencies do): the round
        // trip measured with the baselines, minutes earlier, drifted by up to 2x against the misses.
        await using var pingPong = await PingPong.OpenAsync(4096);
        var (rtts, misses) = await Measure.PairedLatenciesAsync(20, options.LatencySamples, 100,
            () => pingPong.RoundTripAsync(),
            () => pages.ReadAsync(random.NextInt64(0, length / 4096) * 4096, one));
        report.Samples["array 4 KiB page miss (us)"] = misses;
        report.Samples["raw TCP round trip 4 KiB, alternating with the misses (us)"] = rtts;
        const string Paired = "raw TCP round trip 4 KiB (alternating blocks)";
        report.Add(new Figure("array", "4 KiB random page miss p50", "µs", Measure.Percentile(misses, 0.5), false, $"{Paired} p50", Measure.Percentile(rtts, 0.5), 1.2));
        report.Add(new Figure("array", "4 KiB random page miss p99", "µs", Measure.Percentile(misses, 0.99), false, $"{Paired} p99", Measure.Percentile(rtts, 0.99)));
        report.Add(new Figure("array", "4 KiB random page miss p999", "µs", Measure.Percentile(misses, 0.999), false, $"{Paired} p999", Measure.Percentile(rtts, 0.999)));

        // Random 64 KiB reads, 16 in flight, through a 1 MiB cache: nearly every one misses and crosses the network.
        const int RandomBlock = 64 << 10;
        var buffers = Enumerable.Range(0, 16).Select(_ => GC.AllocateArray<byte>(RandomBlock, pinned: true)).ToArray();
        double randomRead = await Measure.ThroughputAsync(buffers.Length, options.Duration, async (worker, _) =>
        {
            await pages.ReadAsync(Random.Shared.NextInt64(0, length / RandomBlock) * RandomBlock, buffers[worker]);
            return RandomBlock;
        });
        double stream64 = _stream.TryGetValue(RandomBlock, out var s64) ? s64 : _stream.Values.Max();
        report.Add(new Figure("array", "random read 64 KiB blocks, 16 in flight (1 MiB cache)", "GB/s", randomRead / 1e9, BaselineName: "raw stream 64 KiB", Baseline: stream64 / 1e9));

        pages.Read(0, one);
        int hits = options.Quick ? 200_000 : 5_000_000;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < hits; i++) pages.Read(0, one);
        report.Add(new Figure("array", "page hit (8-byte read)", "ns", clock.Elapsed.TotalNanoseconds / hits, HigherIsBetter: false));
    }

    /// <summary>RemoteKv GET/PUT with 1 KiB values, cache on and off, next to redis-benchmark when installed.</summary>
    public async Task KeyValueAsync()
    {
        var redis = await Baselines.RedisOpsPerSecond(16, options.Quick ? 20_000 : 200_000, report.Notes);
        foreach (bool cached in new[] { true, false })
        {
            await using var kv = await client.CreateKvAsync(new RemoteKvOptions
            {
                Capacity = Math.Max(64L << 20, options.KvKeys * 2200L), CacheBytes = cached ? 64L << 20 : 0, PageSize = 4096, MaxValueBytes = 4096, StripeCount = options.Donors,
            });
            var value = new byte[1024];
            var keys = Enumerable.Range(0, options.KvKeys).Select(i => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes($"key:{i}")).ToArray();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (key, _) => await kv.PutAsync(key, value));
            double puts = keys.Length / clock.Elapsed.TotalSeconds;
            clock.Restart();
            await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (key, _) =>
            {
                var buffer = new ArrayBufferWriter<byte>(1024);
                await kv.TryGetAsync(key, buffer);
            });
            double gets = keys.Length / clock.Elapsed.TotalSeconds;
            var sample = new ArrayBufferWriter<byte>(1024);
            var pick = new Random(11);
            var latencies = await Measure.LatenciesAsync(100, options.LatencySamples, _ =>
            {
                sample.ResetWrittenCount();
                return new ValueTask(kv.TryGetAsync(keys[pick.Next(keys.Length)], sample).AsTask());
            });
            string mode = cached ? "cache on" : "cache off";
            report.Samples[$"kv GET 1 KiB {mode} (us)"] = latencies;
            report.Add(new Figure("kv", $"PUT 1 KiB, 16 in flight, {mode}", "ops/s", puts, BaselineName: redis is null ? null : "redis SET P16", Baseline: redis?.Set));
            report.Add(new Figure("kv", $"GET 1 KiB, 16 in flight, {mode}", "ops/s", gets, BaselineName: redis is null ? null : "redis GET P16", Baseline: redis?.Get));
            report.Add(new Figure("kv", $"GET 1 KiB random key latency p50, {mode}", "µs", Measure.Percentile(latencies, 0.5), HigherIsBetter: false));
            report.Add(new Figure("kv", $"GET 1 KiB random key latency p99, {mode}", "µs", Measure.Percentile(latencies, 0.99), HigherIsBetter: false));
        }
    }

    /// <summary>Peak resident memory of the donors against what they offer, and of this client.</summary>
    public void Memory(long donorOffered)
    {
        foreach (var donor in cluster?.Donors ?? [])
            report.Add(new Figure("memory", $"donor {donor.Endpoint} peak resident", "MiB", Measure.PeakResident(donor.Pid) / 1048576.0, false, "offered", donorOffered / 1048576.0));
        report.Add(new Figure("memory", "client peak resident", "MiB", Measure.PeakResident(Environment.ProcessId) / 1048576.0, HigherIsBetter: false));
    }

    private double DonorCpu() => cluster?.Donors.Sum(d => Measure.CpuSeconds(d.Pid)) ?? double.NaN;

    public static string Label(long size) => size >= 1 << 20 ? $"{size >> 20} MiB" : $"{size >> 10} KiB";
}
