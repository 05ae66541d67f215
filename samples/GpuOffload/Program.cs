// GPU offload: lease an executor with a GPU and run SAXPY (y = a * x + y) there as an ILGPU kernel, in
// chunks that fit one call, then check every element against the same computation done locally. Where
// the donor has no CUDA or OpenCL device, ILGPU runs the kernel on its CPU accelerator: the same code.
// Runs against an embedded local cluster (one donor offering one GPU) unless given a running one:
//
//   dotnet run -c Release --project samples/GpuOffload [-- ELEMENTS] [--manager HOST:PORT]
using System.Diagnostics;
using RemoteMem.Client.Functions;
using RemoteMem.Samples;
using RemoteMem.Samples.Functions;

var (manager, positional) = SampleCluster.ParseArguments(args);
int n = positional.Length > 0 ? int.Parse(positional[0]) : 1 << 20;
const float A = 2.5f;
const int Chunk = 256 << 10; // elements per call: x and y of a chunk are 2 MiB, under the 4 MiB call limit

await using var cluster = await SampleCluster.StartAsync(manager, donors: 1, bytesPerDonor: 16L << 20, coresPerDonor: 1, gpusPerDonor: 1);
var package = FunctionPackage.FromAssembly(typeof(SaxpyFunction).Assembly);
await using var lease = await cluster.Client.LeaseExecutorAsync(new ExecutorLeaseOptions { Package = package, Cores = 1, Gpus = 1 });

var random = new Random(42);
var x = new float[n];
var y = new float[n];
for (int i = 0; i < n; i++)
{
    x[i] = (float)(random.NextDouble() * 2 - 1);
    y[i] = (float)(random.NextDouble() * 2 - 1);
}

var clock = Stopwatch.StartNew();
var result = new float[n];
for (int start = 0; start < n; start += Chunk)
{
    int count = Math.Min(Chunk, n - start);
    var request = new SaxpyRequest { A = A, X = x[start..(start + count)], Y = y[start..(start + count)] };
    var part = await lease.InvokeAsync<SaxpyRequest, float[]>("saxpy", request);
    if (part.Length != count)
    {
        Console.Error.WriteLine($"The executor returned {part.Length} elements for a chunk of {count}.");
        return 1;
    }

    part.CopyTo(result, start);
}

var remoteTime = clock.Elapsed;
var statistics = await lease.GetStatisticsAsync();
Console.WriteLine($"Accelerator: {statistics.Accelerator}");
Console.WriteLine($"SAXPY on {n:N0} floats remotely in {remoteTime.TotalMilliseconds:0} ms ({statistics.Invocations} calls; the first compiles the kernel).");

// A GPU may fuse a * x + y into one rounding (FMA) where the CPU rounds the product first: allow the
// product's rounding and the sum's (on ILGPU's CPU accelerator the results are identical).
static float Ulp(float v) => MathF.BitIncrement(MathF.Abs(v)) - MathF.Abs(v);
for (int i = 0; i < n; i++)
{
    float expected = A * x[i] + y[i];
    float tolerance = Ulp(A * x[i]) + Ulp(expected);
    if (MathF.Abs(result[i] - expected) > tolerance)
    {
        Console.Error.WriteLine($"MISMATCH at {i}: remote {result[i]:R}, local {expected:R}");
        return 1;
    }
}

Console.WriteLine($"Verified: all {n:N0} elements equal the local computation (to within a rounding).");
return 0;
