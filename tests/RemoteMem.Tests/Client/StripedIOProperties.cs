using FsCheck;
using FsCheck.Xunit;
using RemoteMem.Client.Internal;
using RemoteMem.Services.Manager.Internal;
using RemoteMem.Transport;
using RemoteMem.Wire;

namespace RemoteMem.Tests.Client;

/// <summary>The request plan covers a range exactly once, lands every byte where the striping formula says, and respects request limits.</summary>
public sealed class StripedIOProperties
{
    [Property(MaxTest = 300)]
    public void Plan_maps_every_byte_once_to_its_stripe_home(PositiveInt segmentsRaw, PositiveInt shiftRaw, NonNegativeInt offsetRaw, PositiveInt lengthRaw, PositiveInt maxRaw)
    {
        int segments = segmentsRaw.Get % 5 + 1;
        int stripe = 1 << (shiftRaw.Get % 6 + 12);
        int maxBytes = maxRaw.Get % (3 * stripe) + 1;
        long total = (long)stripe * (segments * 3 + 1) + 77;
        long offset = offsetRaw.Get % total;
        long length = lengthRaw.Get % (total - offset) + 1;
        long capacity = ((offset + length - 1) / stripe - offset / stripe + 1) * ((stripe + maxBytes - 1) / maxBytes + 1);
        var ops = new IoOp[capacity];
        var batches = new (int Segment, int Start, int Count)[capacity];
        int count = StripedIO.Plan(segments, stripe, maxBytes, offset, 1 << 20, length, ops, batches);

        var seen = new bool[length];
        var segmentLengths = StripeLayout.SegmentLengths((ulong)total, (uint)stripe, segments);
        for (int b = 0; b < count; b++)
        {
            var (segment, start, n) = batches[b];
            Assert.InRange(n, 1, WireLimits.MaxVectorRanges);
            var batch = new ArraySegment<IoOp>(ops, start, n);
            Assert.True(batch.Sum(o => (long)o.Length) <= maxBytes);
            foreach (var op in batch)
            {
                Assert.True(op.RemoteOffset + op.Length <= (long)segmentLengths[segment], "op beyond its segment");
                for (int i = 0; i < op.Length; i++)
                {
                    long logical = offset + (op.Local + i - (1 << 20));
                    long s = logical / stripe;
                    Assert.Equal(segment, (int)(s % segments));
                    Assert.Equal((s / segments) * stripe + logical % stripe, op.RemoteOffset + i);
                    Assert.False(seen[logical - offset], "byte planned twice");
                    seen[logical - offset] = true;
                }
            }
        }

        Assert.All(seen, Assert.True);
    }

    [Fact]
    public void Segment_lengths_add_up_to_the_lease()
    {
        var lengths = StripeLayout.SegmentLengths(10 * 4096 + 5, 4096, 3);
        Assert.Equal(new ulong[] { 4 * 4096, 3 * 4096 + 5, 3 * 4096 }, lengths);
    }
}
