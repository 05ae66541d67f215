using System.Buffers;
using System.Runtime.CompilerServices;
using RemoteMem.Transport;
using RemoteMem.Wire;

namespace RemoteMem.Client.Internal;

/// <summary>
/// Splits a transfer over a striped lease into requests: stripe s lives on segment s % n at offset
/// (s / n) * stripe; each segment's pieces are packed into vectored requests (adjacent pieces merged)
/// bounded by the transport's request size, and all requests go out at once. Allocation-free: the
/// op and task arrays are pooled.
/// </summary>
internal static class StripedIO
{
    /// <summary>Moves <paramref name="length"/> bytes at <paramref name="offset"/> of the lease from or to contiguous local memory.</summary>
    public static ValueTask RunAsync(ISegmentTransport transport, SegmentTarget[][] groups, int stripeSize, bool write, long offset, nint local, long length, CancellationToken cancellationToken)
    {
        // Within one stripe, or anywhere in a lease of one column (its stripes lie end to end on one segment).
        long stripe = offset / stripeSize;
        long within = offset - stripe * stripeSize;
        if (length <= transport.MaxBytesPerRequest && (groups.Length == 1 || within + length <= stripeSize))
        {
            // Locate's arithmetic with one division fewer (64-bit divisions are a visible part of an shm read).
            var (segment, remote) = groups.Length == 1 ? (0, offset) : ((int)(stripe % groups.Length), stripe / groups.Length * stripeSize + within);
            var group = groups[segment];
            if (!write || group.Length == 1)
                return RunOneAsync(transport, group[0], write, new IoOp(remote, local, (int)length), cancellationToken);
        }

        var range = new IoOp(offset, local, checked((int)length));
        return RunAsync(transport, groups, stripeSize, write, new ReadOnlySpan<IoOp>(in range), cancellationToken);
    }

    // One request to one copy, the common small transfer (within a stripe; a read, or a write of an
    // unreplicated lease): no plan and no task array. A transport that completed it inline (shm) gets its
    // op array back at once, with no async layer.
    private static ValueTask RunOneAsync(ISegmentTransport transport, SegmentTarget target, bool write, IoOp op, CancellationToken cancellationToken)
    {
        var ops = ArrayPool<IoOp>.Shared.Rent(1);
        ops[0] = op;
        ValueTask pending;
        try
        {
            pending = write ? transport.WriteAsync(target, ops.AsMemory(0, 1), cancellationToken) : transport.ReadAsync(target, ops.AsMemory(0, 1), cancellationToken);
        }
        catch (Exception ex)
        {
            ArrayPool<IoOp>.Shared.Return(ops);
            return ValueTask.FromException(ex);
        }

        if (!pending.IsCompletedSuccessfully) return ReturnWhenDoneAsync(pending, ops);
        pending.GetAwaiter().GetResult(); // hands a pooled source back
        ArrayPool<IoOp>.Shared.Return(ops);
        return default;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask ReturnWhenDoneAsync(ValueTask pending, IoOp[] ops)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<IoOp>.Shared.Return(ops);
        }
    }

    /// <summary>
    /// Moves several ranges at once, each <see cref="IoOp"/> naming an offset in the lease and its own
    /// local memory (the page cache's frames for a run of pages): ranges that share a segment share
    /// vectored requests.
    /// </summary>
    public static ValueTask RunAsync(ISegmentTransport transport, SegmentTarget[][] groups, int stripeSize, bool write, ReadOnlySpan<IoOp> ranges, CancellationToken cancellationToken)
    {
        int maxBytes = transport.MaxBytesPerRequest;
        int capacity = Capacity(stripeSize, maxBytes, ranges);
        var ops = ArrayPool<IoOp>.Shared.Rent(capacity);
        var batches = ArrayPool<(int Segment, int Start, int Count)>.Shared.Rent(capacity);
        int batchCount = Plan(groups.Length, stripeSize, maxBytes, ranges, ops, batches);
        return SendAsync(transport, groups, write, ops, batches, batchCount, cancellationToken);
    }

    /// <summary>
    /// Sends the requests that would read [<paramref name="offset"/>, +<paramref name="length"/>) as
    /// read-aheads (see <see cref="IReadAheadTransport"/>; each op's Local is its offset within the range)
    /// into <paramref name="parts"/>. Returns how many; 0, with none left in flight, when one could not be
    /// sent or the range needs more requests than <paramref name="parts"/> holds.
    /// </summary>
    public static int BeginReadAhead(IReadAheadTransport transport, int maxBytes, SegmentTarget[][] groups, int stripeSize, long offset, int length, ReadAhead[] parts)
    {
        var range = new IoOp(offset, 0, length);
        int capacity = Capacity(stripeSize, maxBytes, new ReadOnlySpan<IoOp>(in range));
        var ops = ArrayPool<IoOp>.Shared.Rent(capacity);
        var batches = ArrayPool<(int Segment, int Start, int Count)>.Shared.Rent(capacity);
        try
        {
            int batchCount = Plan(groups.Length, stripeSize, maxBytes, offset, 0, length, ops, batches);
            if (batchCount > parts.Length) return 0;
            for (int i = 0; i < batchCount; i++)
            {
                var (segment, start, count) = batches[i];
                var group = groups[segment];
                parts[i] = transport.BeginReadAhead(group[i % group.Length], ops.AsSpan(start, count));
                if (parts[i].IsStarted) continue;
                for (int j = 0; j < i; j++) parts[j].Abandon();
                return 0;
            }

            return batchCount;
        }
        finally
        {
            ArrayPool<IoOp>.Shared.Return(ops);
            ArrayPool<(int, int, int)>.Shared.Return(batches);
        }
    }

    // Enough ops and batches for any plan of these ranges: each stripe a range touches, cut into requests.
    private static int Capacity(int stripeSize, int maxBytes, ReadOnlySpan<IoOp> ranges)
    {
        long capacity = 0;
        foreach (var range in ranges)
            capacity += ((range.RemoteOffset + range.Length - 1) / stripeSize - range.RemoteOffset / stripeSize + 1) * ((stripeSize + maxBytes - 1) / maxBytes + 1);
        return checked((int)capacity);
    }

    // Sends the planned batches, waits for all, and returns the pooled arrays.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask SendAsync(ISegmentTransport transport, SegmentTarget[][] groups, bool write, IoOp[] ops, (int Segment, int Start, int Count)[] batches, int batchCount, CancellationToken cancellationToken)
    {
        int replicas = 1;
        if (write) foreach (var group in groups) replicas = Math.Max(replicas, group.Length);
        var tasks = ArrayPool<ValueTask>.Shared.Rent(batchCount * replicas);
        int taskCount = 0;
        try
        {
            for (int i = 0; i < batchCount; i++)
            {
                var (segment, start, count) = batches[i];
                var slice = new ReadOnlyMemory<IoOp>(ops, start, count);
                var group = groups[segment];
                // A write goes to every replica and is complete when all have it; a read goes to one,
                // a different one per batch so that replicas share the load.
                for (int r = 0; r < (write ? group.Length : 1); r++)
                {
                    var target = write ? group[r] : group[i % group.Length];
                    try
                    {
                        tasks[taskCount++] = write
                            ? transport.WriteAsync(target, slice, cancellationToken)
                            : transport.ReadAsync(target, slice, cancellationToken);
                    }
                    catch (Exception ex)
                    {
                        tasks[taskCount - 1] = ValueTask.FromException(ex);
                    }
                }
            }

            Exception? first = null;
            for (int i = 0; i < taskCount; i++)
            {
                try
                {
                    await tasks[i].ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    first ??= ex;
                }
            }

            if (first is not null) ExceptionDispatch(first);
        }
        finally
        {
            Array.Clear(tasks, 0, taskCount);
            ArrayPool<ValueTask>.Shared.Return(tasks);
            ArrayPool<IoOp>.Shared.Return(ops);
            ArrayPool<(int, int, int)>.Shared.Return(batches);
        }
    }

    /// <summary>Where byte <paramref name="offset"/> of the lease lives: stripe s on segment s % n, at (s / n) * stripe within it.</summary>
    internal static (int Segment, long Offset) Locate(long offset, int stripeSize, int segments)
    {
        long stripe = offset / stripeSize;
        return ((int)(stripe % segments), (stripe / segments) * stripeSize + offset % stripeSize);
    }

    private static void ExceptionDispatch(Exception ex) => System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex);

    /// <summary>The plan for one contiguous range (<see cref="Plan(int, int, int, ReadOnlySpan{IoOp}, IoOp[], ValueTuple{int, int, int}[])"/>).</summary>
    internal static int Plan(int segments, int stripeSize, int maxBytes, long offset, nint local, long length, IoOp[] ops, (int Segment, int Start, int Count)[] batches)
    {
        var range = new IoOp(offset, local, checked((int)length));
        return Plan(segments, stripeSize, maxBytes, new ReadOnlySpan<IoOp>(in range), ops, batches);
    }

    /// <summary>
    /// Fills <paramref name="ops"/> segment by segment (each range's stripes on that segment, in order)
    /// and cuts them into batches; returns the batch count. Pieces adjacent both in the segment and in
    /// local memory merge into one op.
    /// </summary>
    internal static int Plan(int segments, int stripeSize, int maxBytes, ReadOnlySpan<IoOp> ranges, IoOp[] ops, (int Segment, int Start, int Count)[] batches)
    {
        int opCount = 0, batchCount = 0;
        for (int segment = 0; segment < segments; segment++)
        {
            int batchStart = opCount;
            long batchBytes = 0;
            foreach (var range in ranges)
            {
                long offset = range.RemoteOffset, end = offset + range.Length;
                long firstStripe = offset / stripeSize;
                long lastStripe = (end - 1) / stripeSize;
                // The first stripe at or after firstStripe that lives on this segment.
                long s = firstStripe + ((segment - firstStripe % segments) + segments) % segments;
                for (; s <= lastStripe; s += segments)
                {
                    long from = Math.Max(offset, s * stripeSize);
                    long to = Math.Min(end, (s + 1) * stripeSize);
                    while (from < to)
                    {
                        int piece = (int)Math.Min(to - from, maxBytes);
                        long remote = Locate(from, stripeSize, segments).Offset;
                        nint address = range.Local + (nint)(from - offset);
                        if (batchBytes + piece > maxBytes || opCount - batchStart == WireLimits.MaxVectorRanges)
                        {
                            batches[batchCount++] = (segment, batchStart, opCount - batchStart);
                            batchStart = opCount;
                            batchBytes = 0;
                        }

                        var previous = opCount > batchStart ? ops[opCount - 1] : default;
                        if (opCount > batchStart && previous.RemoteOffset + previous.Length == remote && previous.Local + previous.Length == address)
                            ops[opCount - 1] = previous with { Length = previous.Length + piece };
                        else
                            ops[opCount++] = new IoOp(remote, address, piece);
                        batchBytes += piece;
                        from += piece;
                    }
                }
            }

            if (opCount > batchStart) batches[batchCount++] = (segment, batchStart, opCount - batchStart);
        }

        return batchCount;
    }
}
