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
