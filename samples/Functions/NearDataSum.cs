using System.Runtime.InteropServices;
using RemoteMem.Functions;

namespace RemoteMem.Samples.Functions;

/// <summary>
/// "partial-sum", near-data: the sum of the elements of a RemoteArray&lt;double&gt; that live on this
/// donor, read in place from the donor's memory (no network). Input: the array's length in elements;
/// bytes of a segment past it (the allocation's tail) are not elements and are skipped. Run it with
/// <c>MapOnDonorsAsync</c> and add the partial sums on the client.
/// </summary>
[RemoteFunction("partial-sum")]
public sealed class PartialSum : TypedFunction<long, double>
{
    public override double Invoke(long length, FunctionContext context)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        long end = length * sizeof(double);
        double sum = 0;
        foreach (var segment in context.Segments)
        {
            foreach (var (offset, stripe) in segment.Stripes())
            {
                if (offset >= end) continue;
                int bytes = (int)Math.Min(stripe.Length, end - offset);
                // Stripes start on element boundaries (the stripe size is a multiple of 8), so the cast is exact.
                foreach (double value in MemoryMarshal.Cast<byte, double>(stripe.Span[..bytes])) sum += value;
                context.CancellationToken.ThrowIfCancellationRequested();
            }
        }

        return sum;
    }
}
