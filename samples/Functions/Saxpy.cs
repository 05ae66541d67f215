using ILGPU;
using ILGPU.Runtime;
using MemoryPack;
using RemoteMem.Functions;

namespace RemoteMem.Samples.Functions;

/// <summary>Input of "saxpy": y = A * x + y over equal-length vectors.</summary>
[MemoryPackable]
public sealed partial class SaxpyRequest
{
    public float A { get; set; }

    public float[] X { get; set; } = [];

    public float[] Y { get; set; } = [];
}

/// <summary>
/// "saxpy", on the lease's accelerator (ILGPU: a CUDA or OpenCL GPU where the donor has one, ILGPU's
/// CPU accelerator otherwise); returns the new y. Lease the executor with Gpus = 1.
/// </summary>
[RemoteFunction("saxpy")]
public sealed class SaxpyFunction : TypedFunction<SaxpyRequest, float[]>
{
    // A grid-stride loop: each thread handles every stride-th element. One thread per element is fine on
    // a GPU but very slow on ILGPU's CPU accelerator; looping suits both.
    private static void Kernel(Index1D thread, float a, ArrayView<float> x, ArrayView<float> y, int stride)
    {
        for (long i = thread; i < x.Length; i += stride) y[i] = a * x[i] + y[i];
    }

    public override float[] Invoke(SaxpyRequest input, FunctionContext context)
    {
        if (input.X.Length != input.Y.Length)
            throw new ArgumentException($"x has {input.X.Length} elements and y {input.Y.Length}; SAXPY needs equal lengths.");
        if (input.X.Length == 0) return [];
        var accelerator = context.Accelerator;
        // Compiling a kernel takes ~100 ms: the context caches it for the executor's lifetime.
        var kernel = context.GetKernel("samples/saxpy", a => a.LoadAutoGroupedStreamKernel<Index1D, float, ArrayView<float>, ArrayView<float>, int>(Kernel));
        using var x = accelerator.Allocate1D(input.X);
        using var y = accelerator.Allocate1D(input.Y);
        int threads = Math.Min(input.X.Length, accelerator.MaxNumThreadsPerGroup * Math.Max(1, accelerator.NumMultiprocessors));
        kernel(threads, input.A, x.View, y.View, threads);
        accelerator.Synchronize();
        return y.GetAsArray1D();
    }
}
