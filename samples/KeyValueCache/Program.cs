// Memoization in remote memory: an expensive function's results are cached in a RemoteKv, requests
// follow a skewed (Zipf-like) distribution, and the sample reports the hit rate and checks every
// cached answer against a fresh computation. Runs against an embedded local cluster:
//
//   dotnet run -c Release --project samples/KeyValueCache
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using RemoteMem.Client;
using RemoteMem.Services;

await using var cluster = await EmbeddedCluster.StartAsync(donors: 2, bytesPerDonor: 64L << 20);
await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret });
await using var cache = await client.CreateKvAsync(new RemoteKvOptions { Capacity = 32L << 20, CacheBytes = 1L << 20, MaxValueBytes = 64 << 10 });

// The "expensive" function: 2,000 rounds of SHA-256 over the input, as a 1 KiB result.
static byte[] Expensive(int input)
{
    var digest = SHA256.HashData(BitConverter.GetBytes(input));
    for (int round = 0; round < 2000; round++) digest = SHA256.HashData(digest);
    var result = new byte[1024];
    for (int i = 0; i < result.Length; i += digest.Length) digest.CopyTo(result.AsSpan(i, Math.Min(digest.Length, result.Length - i)));
    return result;
}

var random = new Random(2026);
int requests = 5000, distinct = 500, hits = 0;
var clock = Stopwatch.StartNew();
for (int r = 0; r < requests; r++)
{
    // Zipf-like: small inputs are asked for far more often.
    int input = (int)Math.Min(distinct - 1, Math.Floor(Math.Pow(distinct, random.NextDouble())) - 1);
    var key = Encoding.UTF8.GetBytes($"sha256x2000/{input}");
    var buffer = new System.Buffers.ArrayBufferWriter<byte>();
    if (await cache.TryGetAsync(key, buffer)) hits++;
    else await cache.PutAsync(key, Expensive(input));
}

Console.WriteLine($"{requests} requests over {distinct} inputs: {hits} hits ({100.0 * hits / requests:0.0}%), {cache.Count} results cached, {clock.Elapsed.TotalSeconds:0.00} s.");

// Every cached answer must equal a fresh computation.
await foreach (var key in cache.KeysAsync())
{
    int input = int.Parse(Encoding.UTF8.GetString(key).Split('/')[1]);
    var buffer = new System.Buffers.ArrayBufferWriter<byte>();
    if (!await cache.TryGetAsync(key, buffer) || !buffer.WrittenSpan.SequenceEqual(Expensive(input)))
    {
        Console.Error.WriteLine($"MISMATCH for input {input}");
        return 1;
    }
}

Console.WriteLine($"Verified: all {cache.Count} cached results equal a fresh computation.");
return 0;
