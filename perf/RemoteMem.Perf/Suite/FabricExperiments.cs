using System.Runtime.InteropServices;
using RemoteMem.Cli.Internal;
using RemoteMem.Client;
using RemoteMem.Fabric;
using RemoteMem.Fabric.Internal;
using RemoteMem.Transport;
using RemoteMem.Wire.Messages;

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

    /// <summary>Raw and RemoteMem throughput alternate in slices of half the duration, this many of each (see <see cref="Measure.PairedThroughputAsync"/>).</summary>
    private const int Slices = 6;

    private async Task MeasureAsync(string provider)
    {
        long bytes = RegionBytes;
        // Room for two leases of the region: the fabric client's and the TCP client's.
        await using var cluster = await LocalCluster.StartAsync(1, (2 * bytes + (64L << 20)).ToString(), donorArgs: ["--transport", "fabric", "--provider", provider]);
        await using var client = await Connect(cluster, "fabric", provider);
        await using var allocation = await client.AllocateAsync(bytes);
        var buffers = Enumerable.Range(0, Depth).Select(_ => GC.AllocateArray<byte>(options.BlockSizes.Max(), pinned: true)).ToArray();
        for (long o = 0; o < bytes; o += buffers[0].Length)
            await allocation.WriteAsync(o, buffers[0].AsMemory(0, (int)Math.Min(buffers[0].Length, bytes - o)));

        using var raw = RawPath.Open(provider, allocation.Targets[0], buffers);
        // A second raw endpoint in the same process: the spread between two identical paths, in the same run.
        using var rawAgain = RawPath.Open(provider, allocation.Targets[0], buffers);
        var pid = cluster.Donors[0].Pid;
        double fabricCpu = 0;
        long fabricServed = 0;
        foreach (int size in options.BlockSizes)
        {
            long slots = bytes / size;
            // Worker w's i-th operation: spread over the region so that workers rarely share a slot.
            long Offset(int worker, long i) => (worker * 7919 + i) % slots * size;
            foreach (bool write in new[] { false, true })
            {
                string op = write ? "write" : "read";
                // The donor's CPU counts both sides' bytes: raw and RemoteMem operations cost it the same.
                double cpuBefore = Measure.CpuSeconds(pid);
                long moved = 0;
                var (rawRate, rate) = await Measure.PairedThroughputAsync(Depth, options.Duration / 2, Slices,
                    async (worker, i) =>
                    {
                        await raw.TransferAsync(write, Offset(worker, i), size, worker);
                        Interlocked.Add(ref moved, size);
                        return size;
                    },
                    async (worker, i) =>
                    {
                        var memory = buffers[worker].AsMemory(0, size);
                        if (write) await allocation.WriteAsync(Offset(worker, i), memory);
                        else await allocation.ReadAsync(Offset(worker, i), memory);
                        Interlocked.Add(ref moved, size);
                        return size;
                    });
                fabricCpu += Measure.CpuSeconds(pid) - cpuBefore;
                fabricServed += moved;

                report.Point($"raw libfabric {provider} {op} QD{Depth}", size, rawRate / 1e9);
                report.Point($"fabric {provider} {op} QD{Depth}", size, rate / 1e9);
                report.Add(new Figure("fabric", $"{provider} {op} {Experiments.Label(size)} QD{Depth}", "GB/s", rate / 1e9,
                    BaselineName: $"raw libfabric {Experiments.Label(size)} (alternating slices)", Baseline: rawRate / 1e9, GoalRatio: 0.9));

                // Reads of the smallest and the largest size once more between two identical raw endpoints:
                // how far apart two equal paths land in this run.
                if (!write && (size == options.BlockSizes.Min() || size == options.BlockSizes.Max()))
                {
                    var (first, again) = await Measure.PairedThroughputAsync(Depth, options.Duration / 2, Slices,
                        async (worker, i) =>
                        {
                            await raw.TransferAsync(write: false, Offset(worker, i), size, worker);
                            return size;
                        },
                        async (worker, i) =>
                        {
                            await rawAgain.TransferAsync(write: false, Offset(worker, i), size, worker);
                            return size;
                        });
                    report.Add(new Figure("fabric", $"{provider} read {Experiments.Label(size)} QD{Depth}, a second raw endpoint (noise floor)", "GB/s", again / 1e9,
                        BaselineName: $"raw libfabric {Experiments.Label(size)} (alternating slices)", Baseline: first / 1e9));
                }
            }
        }

        foreach (int size in LatencySizes)
        {
            // Raw and RemoteMem reads alternate in blocks of 100 (a few milliseconds): whole rounds of each
            // drifted apart by more than their difference; one by one, both endpoints' progress threads stay awake.
            var (rawLatencies, latencies) = await Measure.PairedLatenciesAsync(20, options.LatencySamples, 100,
                () => raw.TransferAsync(write: false, 0, size, worker: 0),
                () => allocation.ReadAsync(0, buffers[0].AsMemory(0, size)));
            report.Samples[$"raw libfabric {provider} read {size} B (us)"] = rawLatencies;
            report.Samples[$"fabric {provider} read {size} B (us)"] = latencies;
            // Lower is better: "at least 0.9x of raw" for a latency is "at most 1/0.9 of raw".
            report.Add(new Figure("fabric", $"{provider} read latency {size} B p50", "µs", Measure.Percentile(latencies, 0.5), HigherIsBetter: false,
                BaselineName: "raw libfabric p50 (alternating blocks)", Baseline: Measure.Percentile(rawLatencies, 0.5), GoalRatio: 1 / 0.9));

            // The same comparison between two identical raw endpoints: how far apart two equal paths land here.
            var (rawFirst, rawSecond) = await Measure.PairedLatenciesAsync(20, options.LatencySamples, 100,
                () => raw.TransferAsync(write: false, 0, size, worker: 0),
                () => rawAgain.TransferAsync(write: false, 0, size, worker: 1));
            report.Add(new Figure("fabric", $"{provider} read latency {size} B p50, a second raw endpoint (noise floor)", "µs", Measure.Percentile(rawSecond, 0.5), HigherIsBetter: false,
                BaselineName: "raw libfabric p50 (alternating blocks)", Baseline: Measure.Percentile(rawFirst, 0.5)));
        }

        // The same donor over its managed TCP path: what one-sided access saves the donor's CPU.
        await using var tcp = await Connect(cluster, "tcp", provider);
        await using var tcpAllocation = await tcp.AllocateAsync(bytes);
        int block = options.BlockSizes.Contains(1 << 20) ? 1 << 20 : options.BlockSizes.Max();
        long tcpServed = 0;
        double tcpCpuBefore = Measure.CpuSeconds(pid);
        await Measure.ThroughputAsync(Depth, options.Duration, async (worker, i) =>
        {
            long offset = (worker * 7919 + i) % (bytes / block) * block;
            await tcpAllocation.ReadAsync(offset, buffers[worker].AsMemory(0, block));
            Interlocked.Add(ref tcpServed, block);
            return block;
        });
        double tcpCpu = (Measure.CpuSeconds(pid) - tcpCpuBefore) / Math.Max(tcpServed / (double)(1L << 30), 1e-9);
        report.Add(new Figure("fabric", $"{provider} donor CPU per GiB served", "CPU s/GiB", fabricCpu / Math.Max(fabricServed / (double)(1L << 30), 1e-9), HigherIsBetter: false,
            BaselineName: "managed TCP, same donor", Baseline: tcpCpu));
    }

    /// <summary>
    /// The ceiling: this process's own endpoint reading and writing the lease's segment through the shim
    /// alone, between the same pinned buffers the RemoteMem run uses (each registered once), so both
    /// move bytes between the same memories.
    /// </summary>
    private sealed class RawPath : IDisposable
    {
        private readonly FabricEndpoint _endpoint;
        private readonly FabricRegistration[] _registrations;
        private readonly byte[][] _buffers;
        private readonly FabricPeer _peer;
        private readonly FabricAddress _address;
        private readonly ulong _segmentBase;

        private RawPath(FabricEndpoint endpoint, FabricRegistration[] registrations, byte[][] buffers, FabricPeer peer, FabricAddress address, ulong segmentBase)
        {
            (_endpoint, _registrations, _buffers, _peer, _address, _segmentBase) = (endpoint, registrations, buffers, peer, address, segmentBase);
        }

        public static RawPath Open(string provider, SegmentTarget target, byte[][] buffers)
        {
            var address = target.Fabric ?? throw new InvalidOperationException("The donor announced no fabric address.");
            var endpoint = FabricEndpoint.Open(new FabricEndpointOptions
            {
                Provider = provider,
                LocalAddress = provider.StartsWith("tcp", StringComparison.Ordinal) ? "127.0.0.1" : null,
            });
            var registrations = buffers.Select(b => endpoint.RegisterMemory(Marshal.UnsafeAddrOfPinnedArrayElement(b, 0), b.Length, remoteAccess: false)).ToArray();
            return new RawPath(endpoint, registrations, buffers, endpoint.AddPeer(address.Name), address, address.Base + target.Capability.PoolOffset);
        }

        /// <summary>One operation between the segment at <paramref name="offset"/> and worker <paramref name="worker"/>'s buffer.</summary>
        public ValueTask TransferAsync(bool write, long offset, int size, int worker)
        {
            nint local = Marshal.UnsafeAddrOfPinnedArrayElement(_buffers[worker], 0);
            var descriptor = _registrations[worker].Descriptor;
            return write
                ? _endpoint.WriteAsync(_peer, local, descriptor, _segmentBase + (ulong)offset, _address.Key, size)
                : _endpoint.ReadAsync(_peer, local, descriptor, _segmentBase + (ulong)offset, _address.Key, size);
        }

        public void Dispose()
        {
            foreach (var registration in _registrations) registration.Dispose();
            _endpoint.Dispose();
        }
    }

    private static async Task<RemoteMemClient> Connect(LocalCluster cluster, string transport, string provider) =>
        await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions
        {
            Manager = cluster.ManagerEndpoint,
            Secret = cluster.Secret,
            DataTransport = transport,
            FabricProvider = provider,
        });
}
