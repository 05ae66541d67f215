namespace RemoteMem.Services.Manager.Internal;

/// <summary>
/// Round-robin striping (the layout in docs/protocol.md): stripe s of a lease lives on segment
/// s % n. This computes how many bytes each segment must hold.
/// </summary>
internal static class StripeLayout
{
    public static ulong[] SegmentLengths(ulong bytes, uint stripeSize, int segmentCount)
    {
        ulong stripes = (bytes + stripeSize - 1) / stripeSize;
        var lengths = new ulong[segmentCount];
        for (int k = 0; k < segmentCount; k++)
        {
            ulong owned = stripes > (ulong)k ? (stripes - (ulong)k - 1) / (ulong)segmentCount + 1 : 0;
            lengths[k] = owned * stripeSize;
        }

        ulong shortfall = stripes * stripeSize - bytes;
        lengths[(int)((stripes - 1) % (ulong)segmentCount)] -= shortfall;
        return lengths;
    }
}
