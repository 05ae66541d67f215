using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace RemoteMem.Tests.Transport;

/// <summary>Samples the runtime's allocation ticks (one per ~100 KB allocated) by type, to say what allocates when a budget is exceeded.</summary>
internal sealed class AllocationSampler : EventListener
{
    public ConcurrentDictionary<string, int> Types { get; } = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.PayloadNames is null) return;
        int index = e.PayloadNames.IndexOf("TypeName");
        if (index >= 0) Types.AddOrUpdate(e.Payload![index]?.ToString() ?? "?", 1, (_, n) => n + 1);
    }

    public string Report() => string.Join(", ", Types.OrderByDescending(kv => kv.Value).Take(12).Select(kv => $"{kv.Key} x{kv.Value}"));
}

/// <summary>
/// Bytes allocated by a workload in steady state: warm it up (connections, JIT tiers, pools), then run
/// it in several windows. Allocations are process-wide, and work left over from other tests only adds,
/// so the least window is the measure.
/// </summary>
internal static class AllocationWindows
{
    public static async Task<(long Least, long[] Windows)> MeasureAsync(Func<int, Task> run, int operations, int warmup)
    {
        await run(warmup);
        // A full collection trims the shared array pools; collect first, then warm the pools again.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        await run(operations); // tiered JIT finishes promoting the hot path here
        var windows = new long[5];
        for (int w = 0; w < windows.Length; w++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await run(operations);
            windows[w] = GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        return (windows.Min(), windows);
    }
}
