using System.Diagnostics;
using RemoteMem.Fabric;
using RemoteMem.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RemoteMem.Tests.Fabric;

/// <summary>
/// Prints latency and throughput of 4 KiB and 1 MiB reads (the page and the large-transfer case) for each
/// provider and client progress mode; asserts only that the runs complete. Alone in its collection so
/// parallel tests do not skew it. Numbers from a 2-vCPU box are noisy: read them as orders of magnitude.
/// </summary>
[Collection(Isolated.Name)]
public sealed class FabricPerformanceReport(ITestOutputHelper output)
{
    [Theory]
    [InlineData(FabricTestEnvironment.Tcp, FabricProgressMode.Blocking)]
    [InlineData(FabricTestEnvironment.Tcp, FabricProgressMode.Spinning)]
    [InlineData(FabricTestEnvironment.Shm, FabricProgressMode.Blocking)]
    [InlineData(FabricTestEnvironment.Shm, FabricProgressMode.Spinning)]
    public async Task Latency_and_throughput_of_4_KiB_and_1_MiB_reads(string provider, FabricProgressMode clientMode)
    {
        using var pair = FabricPair.Open(provider, clientMode: clientMode);
        string label = $"{provider}, client {clientMode.ToString().ToLowerInvariant()}, donor blocking";

        var latencies = await OneAtATime(pair, 4096, 1000);
        output.WriteLine($"{label}: 4 KiB read one at a time: mean {latencies.Average():0.0} us, p50 {Percentile(latencies, 0.5):0.0} us, p99 {Percentile(latencies, 0.99):0.0} us");
        double opsPerSecond = await InFlight(pair, 4096, 32, 4000);
        output.WriteLine($"{label}: 4 KiB reads, 32 in flight: {opsPerSecond / 1000:0.0} k ops/s ({opsPerSecond * 4096 / 1e9:0.00} GB/s)");

        latencies = await OneAtATime(pair, 1 << 20, 100);
        output.WriteLine($"{label}: 1 MiB read one at a time: mean {latencies.Average():0} us ({(1 << 20) / latencies.Average() / 1e3:0.00} GB/s)");
        opsPerSecond = await InFlight(pair, 1 << 20, 8, 200);
        output.WriteLine($"{label}: 1 MiB reads, 8 in flight: {opsPerSecond * (1 << 20) / 1e9:0.00} GB/s");
    }

    private static async Task<double[]> OneAtATime(FabricPair pair, int size, int count)
    {
        for (int i = 0; i < count / 10; i++) await pair.ReadAsync(i * 4096L, 0, size); // warm-up
        var latencies = new double[count];
        for (int i = 0; i < count; i++)
        {
            long offset = (i * 7919L * 4096) % (FabricPair.DonorBytes - size);
            long start = Stopwatch.GetTimestamp();
            await pair.ReadAsync(offset, 0, size);
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        pair.AssertLocalEqualsModel(0, (count - 1) * 7919L * 4096 % (FabricPair.DonorBytes - size), size);
        return latencies;
    }

    private static async Task<double> InFlight(FabricPair pair, int size, int depth, int total)
    {
        int next = -1;
        async Task Worker(int slot)
        {
            while (Interlocked.Increment(ref next) is var i && i < total)
                await pair.ReadAsync((i * 7919L * 4096) % (FabricPair.DonorBytes - size), (long)slot * size, size);
        }

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, depth).Select(Worker));
        return total / clock.Elapsed.TotalSeconds;
    }

    private static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, p * sorted.Length)];
    }
}
