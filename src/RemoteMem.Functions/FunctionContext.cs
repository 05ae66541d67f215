using ILGPU.Runtime;
using Microsoft.Extensions.Logging;

namespace RemoteMem.Functions;

/// <summary>What a running invocation can see of its lease: deadline, logger, cores, the client's segments on this donor, and an accelerator.</summary>
public abstract class FunctionContext
{
    /// <summary>The executor lease this invocation runs under.</summary>
    public abstract ulong LeaseId { get; }

    /// <summary>When the caller stops waiting.</summary>
    public abstract DateTimeOffset Deadline { get; }

    /// <summary>Cancelled at <see cref="Deadline"/>, or when the executor stops.</summary>
    public abstract CancellationToken CancellationToken { get; }

    /// <summary>The executor's logger (its output goes to the donor's log).</summary>
    public abstract ILogger Logger { get; }

    /// <summary>Cores leased; the executor runs this many invocations at once, and a function may use this many threads.</summary>
    public abstract int Cores { get; }

    /// <summary>
    /// The client's segments that live on this donor and were handed to the lease (near-data compute):
    /// the donor's own memory, read and written in place, no network.
    /// </summary>
    public abstract IReadOnlyList<NearDataSegment> Segments { get; }

    /// <summary>
    /// The lease's accelerator (ILGPU): a CUDA or OpenCL device where the donor has one, ILGPU's CPU
    /// accelerator otherwise. Created on first use and shared by the lease's invocations; throws when
    /// the lease asked for no GPUs.
    /// </summary>
    public abstract Accelerator Accelerator { get; }

    /// <summary>
    /// A kernel compiled once per executor and cached under <paramref name="key"/> (loading one takes
    /// ~100 ms): pass the loader, e.g. <c>a => a.LoadAutoGroupedStreamKernel&lt;...&gt;(MyKernel)</c>.
    /// </summary>
    public abstract TKernel GetKernel<TKernel>(string key, Func<Accelerator, TKernel> load) where TKernel : class;
}
