using RemoteMem.Client;
using RemoteMem.Client.Functions;
using RemoteMem.Samples.ComputeOffload;
using RemoteMem.Samples.Functions;

namespace RemoteMem.Perf.Suite;

/// <summary>
/// (e) The paper's hybrid offload: a batch of Black-Scholes options priced by one local core alone, and
/// by one local core plus one remote executor core taking chunks from the same queue (the
/// ComputeOffload sample's pricer). Both runs are alternated, best of three each; the hybrid prices must
/// equal the local ones bit for bit, or the figure is not reported.
/// </summary>
internal static class HybridOffload
{
    private const int Runs = 3;

    public static async Task RunAsync(SuiteOptions options, Report report, RemoteMemClient client, FunctionPackage package)
    {
        var batch = OptionBatch.Generate(options.HybridOptions, seed: 2024, options.HybridPricingRounds);
        // The default hot timeout (100 ms): the worker spins while chunks keep coming, and blocks while the
        // local-only run is measured, so it does not take that run's core.
        await using var remote = await client.LeaseExecutorAsync(new ExecutorLeaseOptions { Package = package, Cores = 1 });
        var warm = batch.Slice(0, Math.Min(options.HybridChunk, batch.Count));
        HybridPricer.PriceLocally(warm, options.HybridChunk);
        await remote.InvokeAsync<OptionBatch, double[]>(HybridPricer.Function, warm);

        TimeSpan alone = TimeSpan.MaxValue, hybrid = TimeSpan.MaxValue;
        int localChunks = 0, remoteChunks = 0;
        for (int run = 0; run < Runs; run++)
        {
            var local = HybridPricer.PriceLocally(batch, options.HybridChunk);
            var both = await HybridPricer.PriceAsync(batch, options.HybridChunk, remote);
            int differ = Enumerable.Range(0, batch.Count).Count(i => BitConverter.DoubleToInt64Bits(local.Prices[i]) != BitConverter.DoubleToInt64Bits(both.Prices[i]));
            if (differ > 0)
                throw new InvalidOperationException($"Hybrid Black-Scholes: {differ} of {batch.Count} remote prices differ from the local computation.");
            alone = local.Elapsed < alone ? local.Elapsed : alone;
            if (both.Elapsed < hybrid) (hybrid, localChunks, remoteChunks) = (both.Elapsed, both.LocalChunks, both.RemoteChunks);
        }

        string what = $"{batch.Count:N0} options x {batch.Rounds}";
        report.Add(new Figure("functions", $"hybrid Black-Scholes ({what}), 1 local + 1 remote core", "options/s", batch.Count / hybrid.TotalSeconds,
            BaselineName: "1 local core", Baseline: batch.Count / alone.TotalSeconds, GoalRatio: 1.8));
        report.Notes.Add($"Hybrid Black-Scholes: best run {hybrid.TotalMilliseconds:0} ms against {alone.TotalMilliseconds:0} ms on one local core; chunks of {options.HybridChunk:N0}, {localChunks} priced locally and {remoteChunks} remotely; every price equal to the local computation.");
    }
}
