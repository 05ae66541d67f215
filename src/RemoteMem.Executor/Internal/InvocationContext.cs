using ILGPU.Runtime;
using Microsoft.Extensions.Logging;
using RemoteMem.Functions;

namespace RemoteMem.Executor.Internal;

/// <summary>One worker's <see cref="FunctionContext"/>, re-armed for each invocation (no allocation per call).</summary>
internal sealed class InvocationContext(ExecutorRuntime runtime) : FunctionContext
{
    private CancellationTokenSource _cancellation = new();
    private DateTimeOffset _deadline;

    public override ulong LeaseId => runtime.Settings.LeaseId;

    public override DateTimeOffset Deadline => _deadline;

    public override CancellationToken CancellationToken => _cancellation.Token;

    public override ILogger Logger => runtime.FunctionLogger;

    public override int Cores => runtime.Settings.Cores;

    public override IReadOnlyList<NearDataSegment> Segments => runtime.Segments;

    public override Accelerator Accelerator => runtime.Gpu.Accelerator;

    public override TKernel GetKernel<TKernel>(string key, Func<Accelerator, TKernel> load) => runtime.Gpu.GetKernel(key, load);

    /// <summary>Deadline as a Stopwatch timestamp while an invocation runs, 0 between them. Guarded by this.</summary>
    public long DeadlineTimestamp { get; private set; }

    public void Begin(uint timeoutMs)
    {
        lock (this)
        {
            _deadline = DateTimeOffset.UtcNow.AddMilliseconds(timeoutMs);
            DeadlineTimestamp = System.Diagnostics.Stopwatch.GetTimestamp() + timeoutMs * System.Diagnostics.Stopwatch.Frequency / 1000;
        }
    }

    /// <summary>Ends the invocation; true when its deadline had passed (its token was cancelled).</summary>
    public bool End()
    {
        lock (this)
        {
            DeadlineTimestamp = 0;
            bool expired = _cancellation.IsCancellationRequested;
            if (!_cancellation.TryReset())
            {
                _cancellation.Dispose();
                _cancellation = new CancellationTokenSource();
            }

            return expired;
        }
    }

    /// <summary>Called by the deadline watch: cancels the running invocation if it is past its deadline.</summary>
    public void CancelIfExpired(long now)
    {
        lock (this)
        {
            if (DeadlineTimestamp != 0 && now >= DeadlineTimestamp && !_cancellation.IsCancellationRequested)
                _cancellation.Cancel();
        }
    }

    /// <summary>The executor is stopping: cancel whatever runs.</summary>
    public void CancelNow()
    {
        lock (this)
        {
            if (DeadlineTimestamp != 0) _cancellation.Cancel();
        }
    }
}
