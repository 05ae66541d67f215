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
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public static async ValueTask RunAsync(ISegmentTransport transport, SegmentTarget[][] groups, int stripeSize, bool write, long offset, nint local, long length, CancellationToken cancellationToken)
    {
        int maxBytes = transport.MaxBytesPerRequest;
        long firstStripe = offset / stripeSize;
        long lastStripe = (offset + length - 1) / stripeSize;
        long capacity = (lastStripe - firstStripe + 1) * ((stripeSize + maxBytes - 1) / maxBytes + 1);
        var ops = ArrayPool<IoOp>.Shared.Rent((int)capacity);
        var batches = ArrayPool<(int Segment, int Start, int Count)>.Shared.Rent((int)capacity);
        int batchCount = Plan(groups.Length, stripeSize, maxBytes, offset, local, length, ops, batches);
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

    private static void ExceptionDispatch(Exception ex) => System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex);

    /// <summary>Fills <paramref name="ops"/> segment by segment and cuts them into batches; returns the batch count.</summary>
    internal static int Plan(int segments, int stripeSize, int maxBytes, long offset, nint local, long length, IoOp[] ops, (int Segment, int Start, int Count)[] batches)
    {
        long end = offset + length;
        long firstStripe = offset / stripeSize;
        long lastStripe = (end - 1) / stripeSize;
        int opCount = 0, batchCount = 0;
        for (int segment = 0; segment < segments; segment++)
        {
            int batchStart = opCount;
            long batchBytes = 0;
            // The first stripe at or after firstStripe that lives on this segment.
            long s = firstStripe + ((segment - firstStripe % segments) + segments) % segments;
            for (; s <= lastStripe; s += segments)
            {
                long from = Math.Max(offset, s * stripeSize);
                long to = Math.Min(end, (s + 1) * stripeSize);
                while (from < to)
                {
                    int piece = (int)Math.Min(to - from, maxBytes);
                    long remote = (s / segments) * stripeSize + (from - s * stripeSize);
                    nint address = local + (nint)(from - offset);
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

            if (opCount > batchStart) batches[batchCount++] = (segment, batchStart, opCount - batchStart);
        }

        return batchCount;
    }
}
