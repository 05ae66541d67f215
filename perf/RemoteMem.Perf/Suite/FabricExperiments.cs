using System.Runtime.InteropServices;
using RemoteMem.Cli.Internal;
using RemoteMem.Client;
using RemoteMem.Fabric;
using RemoteMem.Fabric.Internal;
using RemoteMem.Transport;

namespace RemoteMem.Perf.Suite;

/// <summary>
/// The fabric data path per provider, next to its ceiling measured in the same run against the same donor
/// process: raw one-sided reads and writes from this process's own endpoint straight into the lease's
/// segment (the shim and libfabric alone: no striping, capability checks, retries or page cache). Then the
/// same transfers through RemoteMem, and the donor's CPU per GiB served over the fabric versus the managed
/// TCP path of the same donor.
/// </summary>
internal sealed class FabricExperiments(SuiteOptions options, Report report)
{
    private const int Depth = 16;
    private static readonly int[] LatencySizes = [8, 4096];

    public static readonly string[] Providers = ["tcp;ofi_rxm", "shm"];

    public async Task RunAsync()
    {
        foreach (var provider in Providers)
        {
            var probe = FabricSupport.Probe(provider);
            if (!probe.IsSupported)
            {
                report.Notes.Add($"fabric {provider}: not measured: {probe.Message}");
                continue;
            }

            await MeasureAsync(provider);
        }
    }

    private long RegionBytes => Math.Max(options.BlockSizes.Max() * (long)Depth * 2, 64L << 20);

    private async Task MeasureAsync(string provider)
    {
        long bytes = RegionBytes;
        await using var cluster = await LocalCluster.StartAsync(1, (bytes + (64L << 20)).ToString(), donorArgs: ["--transport", "fabric", "--provider", provider]);
        await using var client = await Connect(cluster, "fabric", provider);
        await using var allocation = await client.AllocateAsync(bytes);
        var buffers = Enumerable.Range(0, Depth).Select(_ => GC.AllocateArray<byte>(options.BlockSizes.Max(), pinned: true)).ToArray();
        for (long o = 0; o < bytes; o += buffers[0].Length)
            await allocation.WriteAsync(o, buffers[0].AsMemory(0, (int)Math.Min(buffers[0].Length, bytes - o)));

        var raw = await RawAsync(provider, allocation.Targets[0], bytes);
        double fabricCpu = await RemoteMemAsync(provider, cluster, allocation, buffers, raw, bytes);

        // The same donor over its managed TCP path: what one-sided access saves the donor's CPU.
        await using var tcp = await Connect(cluster, "tcp", provider);
        await using var tcpAllocation = await tcp.AllocateAsync(bytes);
        int block = options.BlockSizes.Contains(1 << 20) ? 1 << 20 : options.BlockSizes.Max();
        long tcpServed = 0;
        double tcpCpuBefore = Measure.CpuSeconds(cluster.Donors[0].Pid);
        await Measure.ThroughputAsync(Depth, options.Duration, async (worker, i) =>
        {
            long offset = (worker * 7919 + i) % (bytes / block) * block;
            await tcpAllocation.ReadAsync(offset, buffers[worker].AsMemory(0, block));
            Interlocked.Add(ref tcpServed, block);
            return block;
        });
        double tcpCpu = (Measure.CpuSeconds(cluster.Donors[0].Pid) - tcpCpuBefore) / Math.Max(tcpServed / (double)(1L << 30), 1e-9);
        report.Add(new Figure("fabric", $"{provider} donor CPU per GiB served", "CPU s/GiB", fabricCpu, HigherIsBetter: false,
            BaselineName: "managed TCP, same donor", Baseline: tcpCpu));
    }

    /// <summary>The ceiling: one-sided operations on the lease's segment through the shim alone. Keyed "read SIZE", "write SIZE" (GB/s), "latency SIZE" (µs p50).</summary>
    private async Task<Dictionary<string, double>> RawAsync(string provider, SegmentTarget target, long bytes)
    {
        var results = new Dictionary<string, double>();
        var address = target.Fabric ?? throw new InvalidOperationException("The donor announced no fabric address.");
        nint local = NativeMemoryAlloc(bytes);
        try
        {
            using var endpoint = FabricEndpoint.Open(new FabricEndpointOptions
            {
                Provider = provider,
                LocalAddress = provider.StartsWith("tcp", StringComparison.Ordinal) ? "127.0.0.1" : null,
            });
            using var registration = endpoint.RegisterMemory(local, bytes, remoteAccess: false);
            var peer = endpoint.AddPeer(address.Name);
            ulong Remote(long offset) => address.Base + target.Capability.PoolOffset + (ulong)offset;
            foreach (int size in options.BlockSizes)
            {
                long slots = bytes / size;
                foreach (bool write in new[] { false, true })
                {
                    double rate = await Measure.ThroughputAsync(Depth, options.Duration, async (worker, i) =>
                    {
                        long offset = (worker * 7919 + i) % slots * size;
                        if (write) await endpoint.WriteAsync(peer, local + (nint)offset, registration.Descriptor, Remote(offset), address.Key, size);
                        else await endpoint.ReadAsync(peer, local + (nint)offset, registration.Descriptor, Remote(offset), address.Key, size);
                        return size;
                    });
                    results[$"{(write ? "write" : "read")} {size}"] = rate / 1e9;
                    report.Point($"raw libfabric {provider} {(write ? "write" : "read")} QD{Depth}", size, rate / 1e9);
                }
            }

            foreach (int size in LatencySizes)
            {
                var latencies = await Measure.LatenciesAsync(50, options.LatencySamples, _ =>
                    endpoint.ReadAsync(peer, local, registration.Descriptor, Remote(0), address.Key, size));
                report.Samples[$"raw libfabric {provider} read {size} B (us)"] = latencies;
                results[$"latency {size}"] = Measure.Percentile(latencies, 0.5);
            }
        }
        finally
        {
            NativeMemoryFree(local);
        }

        return results;
    }

    /// <summary>The same transfers through RemoteMem's client; returns the donor's CPU seconds per GiB served meanwhile.</summary>
    private async Task<double> RemoteMemAsync(string provider, LocalCluster cluster, RemoteAllocation allocation, byte[][] buffers, Dictionary<string, double> raw, long bytes)
    {
        double cpuBefore = Measure.CpuSeconds(cluster.Donors[0].Pid);
        long served = 0;
        foreach (int size in options.BlockSizes)
        {
            long slots = bytes / size;
            foreach (bool write in new[] { false, true })
            {
                string op = write ? "write" : "read";
                double rate = await Measure.ThroughputAsync(Depth, options.Duration, async (worker, i) =>
                {
                    long offset = (worker * 7919 + i) % slots * size;
                    var memory = buffers[worker].AsMemory(0, size);
                    if (write) await allocation.WriteAsync(offset, memory);
                    else await allocation.ReadAsync(offset, memory);
                    Interlocked.Add(ref served, size);
                    return size;
                });
                report.Point($"fabric {provider} {op} QD{Depth}", size, rate / 1e9);
                report.Add(new Figure("fabric", $"{provider} {op} {Experiments.Label(size)} QD{Depth}", "GB/s", rate / 1e9,
                    BaselineName: $"raw libfabric {Experiments.Label(size)}", Baseline: raw[$"{op} {size}"], GoalRatio: 0.9));
            }
        }

        double cpu = (Measure.CpuSeconds(cluster.Donors[0].Pid) - cpuBefore) / Math.Max(served / (double)(1L << 30), 1e-9);
        foreach (int size in LatencySizes)
        {
            var latencies = await Measure.LatenciesAsync(50, options.LatencySamples, _ => allocation.ReadAsync(0, buffers[0].AsMemory(0, size)));
            report.Samples[$"fabric {provider} read {size} B (us)"] = latencies;
            // Lower is better: "at least 0.9x of raw" for a latency is "at most 1/0.9 of raw".
            report.Add(new Figure("fabric", $"{provider} read latency {size} B p50", "µs", Measure.Percentile(latencies, 0.5), HigherIsBetter: false,
                BaselineName: "raw libfabric p50", Baseline: raw[$"latency {size}"], GoalRatio: 1 / 0.9));
        }

        return cpu;
    }

    private static async Task<RemoteMemClient> Connect(LocalCluster cluster, string transport, string provider) =>
        await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions
        {
            Manager = cluster.ManagerEndpoint,
            Secret = cluster.Secret,
            DataTransport = transport,
            FabricProvider = provider,
        });

    private static unsafe nint NativeMemoryAlloc(long bytes)
    {
        var p = NativeMemory.AlignedAlloc((nuint)bytes, 4096);
        new Span<byte>(p, (int)Math.Min(bytes, int.MaxValue)).Clear(); // commit the pages before measuring
        return (nint)p;
    }

    private static unsafe void NativeMemoryFree(nint p) => NativeMemory.AlignedFree((void*)p);
}
