// Near-data reduction: the sum of a RemoteArray<double> striped over two donors, computed (a) by pulling
// every element to the client and (b) where the data lives, with one executor per donor summing its own
// segments in place (LeaseNearDataAsync + MapAsync) and the client adding the partial sums. The elements are small
// integers, so every partial sum is an exact integer below 2^53 and both ways must agree exactly.
// Runs against an embedded local cluster unless given a running one:
//
//   dotnet run -c Release --project samples/NearDataReduction [-- ELEMENTS] [--manager HOST:PORT]
using System.Diagnostics;
using RemoteMem.Client;
using RemoteMem.Client.Functions;
using RemoteMem.Samples;
using RemoteMem.Samples.Functions;

var (manager, positional) = SampleCluster.ParseArguments(args);
long n = positional.Length > 0 ? long.Parse(positional[0]) : 4L << 20;   // 4 Mi doubles = 32 MiB
const int Donors = 2;

await using var cluster = await SampleCluster.StartAsync(manager, Donors, bytesPerDonor: n * sizeof(double) / Donors + (16L << 20), coresPerDonor: 1);
var client = cluster.Client;
await using var array = await client.CreateArrayAsync<double>(n, new RemoteArrayOptions { CacheBytes = 4L << 20, StripeCount = Donors });
Console.WriteLine($"An array of {n:N0} doubles ({n * sizeof(double) >> 20} MiB) striped over {Donors} donors.");

static double Value(long i) => i % 1001;

const int Chunk = 64 << 10; // elements per step
var buffer = new double[Chunk];
long written = 0;
for (long i = 0; i < n; i += Chunk)
{
    int count = (int)Math.Min(Chunk, n - i);
    for (int k = 0; k < count; k++)
    {
        buffer[k] = Value(i + k);
        written += (long)buffer[k];
    }

    await array.WriteAsync(i, buffer.AsMemory(0, count));
}

await array.FlushAsync();

// (a) Pull: drop the client's cached pages first, so every element really crosses the network.
await array.RefreshAsync(0, n);
var clock = Stopwatch.StartNew();
double pulled = 0;
for (long i = 0; i < n; i += Chunk)
{
    int count = (int)Math.Min(Chunk, n - i);
    await array.ReadAsync(i, buffer.AsMemory(0, count));
    foreach (double value in buffer.AsSpan(0, count)) pulled += value;
}

var pullTime = clock.Elapsed;
Console.WriteLine($"Pulled to the client and summed:  {pullTime.TotalMilliseconds,8:0.0} ms");

// (b) Near-data: one executor per donor (leased once: a process start each, and the package upload
// the first time), then maps that run "partial-sum" over the segments each donor holds.
var package = FunctionPackage.FromAssembly(typeof(PartialSum).Assembly);
clock.Restart();
await using var executors = await array.LeaseNearDataAsync(client, package);
Console.WriteLine($"{"Near-data executors leased:",-33} {clock.Elapsed.TotalMilliseconds,8:0.0} ms (once: {executors.Leases.Count} executor processes started)");
double near = 0;
TimeSpan mapTime = TimeSpan.MaxValue;
for (int run = 1; run <= 3; run++)
{
    clock.Restart();
    var partials = await executors.MapAsync<long, double>("partial-sum", n);
    mapTime = clock.Elapsed < mapTime ? clock.Elapsed : mapTime;
    near = partials.Sum();
    if (run == 1) Console.WriteLine($"{"Partial sums:",-33} {string.Join(" + ", partials)}");
}

Console.WriteLine($"{"Summed near the data (best of 3):",-33} {mapTime.TotalMilliseconds,8:0.0} ms ({pullTime / mapTime:0.0}x the pull)");

if (pulled != near || pulled != written)
{
    Console.Error.WriteLine($"MISMATCH: pulled {pulled:R}, near-data {near:R}, written {written}");
    return 1;
}

Console.WriteLine($"Verified: the near-data sum equals the pulled sum and the values written ({near:N0}).");
return 0;
