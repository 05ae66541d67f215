// Out-of-core computation: an iterative 1-D Jacobi heat stencil over two RemoteArray<double> that are
// 8x larger than their local caches, streamed through the page cache in chunks, then checked against
// the same computation on local arrays. Runs against an embedded local cluster:
//
//   dotnet run -c Release --project samples/LargeArray [-- ELEMENTS ITERATIONS]
using System.Diagnostics;
using RemoteMem.Client;
using RemoteMem.Services;

long n = args.Length > 0 ? long.Parse(args[0]) : 4L << 20;   // 4 Mi doubles = 32 MiB per array
int iterations = args.Length > 1 ? int.Parse(args[1]) : 4;
long cacheBytes = n * sizeof(double) / 8;                     // each array is 8x its cache

Console.WriteLine($"Embedded cluster: a manager and 2 donors in this process...");
await using var cluster = await EmbeddedCluster.StartAsync(donors: 2, bytesPerDonor: 2 * n * sizeof(double) + (16L << 20));
await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret });
var options = new RemoteArrayOptions { CacheBytes = cacheBytes, PageSize = 64 << 10, ReadAheadPages = 8, StripeCount = 2 };
await using var a = await client.CreateArrayAsync<double>(n, options);
await using var b = await client.CreateArrayAsync<double>(n, options);
Console.WriteLine($"Two arrays of {n:N0} doubles ({n * 8 >> 20} MiB each) with {cacheBytes >> 20} MiB caches, {iterations} Jacobi sweeps.");

static double Initial(long i, long n) => i == 0 || i == n - 1 ? 100.0 : Math.Sin(i * 0.001);

const int Chunk = 64 << 10; // elements per step
var input = new double[Chunk + 2];
var output = new double[Chunk];
var clock = Stopwatch.StartNew();
for (long i = 0; i < n; i += Chunk)
{
    int count = (int)Math.Min(Chunk, n - i);
    for (int k = 0; k < count; k++) output[k] = Initial(i + k, n);
    await a.WriteAsync(i, output.AsMemory(0, count));
}

RemoteArray<double> from = a, to = b;
for (int sweep = 0; sweep < iterations; sweep++)
{
    for (long i = 0; i < n; i += Chunk)
    {
        // Read [i-1, i+count+1) clamped to the array, compute [i, i+count).
        int count = (int)Math.Min(Chunk, n - i);
        long lo = Math.Max(0, i - 1), hi = Math.Min(n, i + count + 1);
        await from.ReadAsync(lo, input.AsMemory(0, (int)(hi - lo)));
        int shift = (int)(i - lo);
        for (int k = 0; k < count; k++)
        {
            long g = i + k;
            output[k] = g == 0 || g == n - 1 ? input[k + shift] : (input[k + shift - 1] + input[k + shift] + input[k + shift + 1]) / 3.0;
        }

        await to.WriteAsync(i, output.AsMemory(0, count));
    }

    (from, to) = (to, from);
}

await from.FlushAsync();
var remoteTime = clock.Elapsed;
Console.WriteLine($"Remote: {iterations} sweeps in {remoteTime.TotalSeconds:0.00} s ({2.0 * iterations * n * 8 / remoteTime.TotalSeconds / 1e9:0.00} GB/s through the caches).");

// The same computation on local arrays (this size fits in memory), then compare every element.
var x = new double[n];
var y = new double[n];
for (long i = 0; i < n; i++) x[i] = Initial(i, n);
for (int sweep = 0; sweep < iterations; sweep++)
{
    y[0] = x[0];
    y[n - 1] = x[n - 1];
    for (long i = 1; i < n - 1; i++) y[i] = (x[i - 1] + x[i] + x[i + 1]) / 3.0;
    (x, y) = (y, x);
}

for (long i = 0; i < n; i += Chunk)
{
    int count = (int)Math.Min(Chunk, n - i);
    await from.ReadAsync(i, output.AsMemory(0, count));
    for (int k = 0; k < count; k++)
    {
        if (output[k] != x[i + k])
        {
            Console.Error.WriteLine($"MISMATCH at {i + k}: remote {output[k]}, local {x[i + k]}");
            return 1;
        }
    }
}

Console.WriteLine($"Verified: all {n:N0} elements equal the local computation.");
return 0;
