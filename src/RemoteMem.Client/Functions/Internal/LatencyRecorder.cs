using System.Diagnostics;

namespace RemoteMem.Client.Functions.Internal;

/// <summary>The last 8192 call latencies in a ring (lock-free, no allocation per call), for percentiles on demand.</summary>
internal sealed class LatencyRecorder
{
    private const int Capacity = 8192;
    private readonly long[] _ticks = new long[Capacity];
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public void Record(long elapsedTimestamp)
    {
        long slot = Interlocked.Increment(ref _count) - 1;
        Volatile.Write(ref _ticks[slot % Capacity], elapsedTimestamp);
    }

    public (TimeSpan Mean, TimeSpan P50, TimeSpan P99) Summary()
    {
        int n = (int)Math.Min(Count, Capacity);
        if (n == 0) return (TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
        var sorted = _ticks.AsSpan(0, n).ToArray();
        Array.Sort(sorted);
        static TimeSpan At(long ticks) => Stopwatch.GetElapsedTime(0, ticks);
        return (At((long)sorted.Average()), At(sorted[n / 2]), At(sorted[Math.Min(n - 1, (int)(n * 0.99))]));
    }
}
