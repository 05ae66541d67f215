namespace RemoteMem.Transport.Internal;

/// <summary>
/// Unix milliseconds for capability expiry checks on the one-sided paths, read per operation. The wall
/// clock costs ~33 ns a read here (a third of what RemoteMem adds to an shm read); this reads the coarse
/// monotonic tick (~7 ns) plus an offset to the wall clock taken again every <see cref="RefreshMs"/>.
/// </summary>
/// <remarks>
/// The tick moves in steps of one kernel jiffy (1-10 ms), so the estimate is off by up to that much either
/// way, and by a wall-clock step until the next refresh. <see cref="MarginMs"/> leans it late: a
/// capability is refused up to ~20 ms before its expiry, never after it (a renewal is due long before),
/// and a step of the wall clock forward is seen within <see cref="RefreshMs"/>.
/// </remarks>
internal static class ExpiryClock
{
    private const long RefreshMs = 100;
    private const long MarginMs = 10;

    private static long s_offset = long.MinValue;
    private static long s_refreshedAt = long.MinValue / 2;

    public static long UnixMilliseconds
    {
        get
        {
            long tick = Environment.TickCount64;
            // Each field is one atomic write; a reader between the two writes sees an older valid offset.
            if (tick - Volatile.Read(ref s_refreshedAt) >= RefreshMs) return Refresh(tick);
            return tick + Volatile.Read(ref s_offset) + MarginMs;
        }
    }

    private static long Refresh(long tick)
    {
        long offset = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - tick;
        Volatile.Write(ref s_offset, offset);
        Volatile.Write(ref s_refreshedAt, tick);
        return tick + offset + MarginMs;
    }
}
