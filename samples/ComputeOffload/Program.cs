// Hybrid compute offload (the paper's Black-Scholes experiment): price a batch of European options on
// one local core, then on one local core plus one remote executor core working through the same chunks,
// and check that both give the same prices bit for bit (the same code runs on both sides). Runs against
// an embedded local cluster unless given a running one:
//
//   dotnet run -c Release --project samples/ComputeOffload [-- OPTIONS [ROUNDS [CHUNK]]] [--manager HOST:PORT]
//
// ROUNDS repeats the pricing, as PARSEC's NUM_RUNS does, so that computing rather than moving the inputs
// dominates. On one machine the "remote" core is this machine's other core, reached over loopback.
using System.Reflection;
using RemoteMem.Client.Functions;
using RemoteMem.Samples;
using RemoteMem.Samples.ComputeOffload;
using RemoteMem.Samples.Functions;

var (manager, positional) = SampleCluster.ParseArguments(args);
int count = positional.Length > 0 ? int.Parse(positional[0]) : 200_000;
int rounds = positional.Length > 1 ? int.Parse(positional[1]) : 100;   // PARSEC's NUM_RUNS
// About 200 chunks: small enough that neither side waits long for the other at the end, large enough
// that a call's fixed cost is small next to its computation.
int chunk = positional.Length > 2 ? int.Parse(positional[2]) : Math.Clamp(count / 200, 100, 5_000);

await using var cluster = await SampleCluster.StartAsync(manager, donors: 1, bytesPerDonor: 16L << 20, coresPerDonor: 1);
var package = FunctionPackage.FromAssembly(typeof(BlackScholesFunction).Assembly);
await using var remote = await cluster.Client.LeaseExecutorAsync(new ExecutorLeaseOptions { Package = package, Cores = 1 });
Console.WriteLine($"Executor with 1 core at {remote.Endpoint}: came up in {remote.ColdStart.Total.TotalMilliseconds:0} ms.");

var batch = OptionBatch.Generate(count, seed: 2024, rounds);
Console.WriteLine($"{count:N0} options, priced {rounds} time(s) each, in chunks of {chunk:N0}.");

// Warm up both sides (JIT, first call) on one chunk, untimed.
var warm = batch.Slice(0, Math.Min(chunk, count));
warm.Rounds = 1;
HybridPricer.PriceLocally(warm, chunk);
await remote.InvokeAsync<OptionBatch, double[]>(HybridPricer.Function, warm);

var alone = HybridPricer.PriceLocally(batch, chunk);
Console.WriteLine($"1 local core:                 {alone.Elapsed.TotalSeconds:0.000} s");
var hybrid = await HybridPricer.PriceAsync(batch, chunk, remote);
Console.WriteLine($"1 local + 1 remote core:      {hybrid.Elapsed.TotalSeconds:0.000} s ({hybrid.LocalChunks} chunks local, {hybrid.RemoteChunks} remote)");
Console.WriteLine($"Speedup over local only:      {alone.Elapsed / hybrid.Elapsed:0.00}x");

for (int i = 0; i < count; i++)
{
    if (BitConverter.DoubleToInt64Bits(hybrid.Prices[i]) != BitConverter.DoubleToInt64Bits(alone.Prices[i]))
    {
        Console.Error.WriteLine($"MISMATCH at option {i}: hybrid {hybrid.Prices[i]:R}, local {alone.Prices[i]:R}");
        return 1;
    }
}

Console.WriteLine($"Verified: all {count:N0} prices equal the local computation.");
return 0;
