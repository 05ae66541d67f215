namespace RemoteMem.Functions;

/// <summary>
/// One of the client's segments as the executor sees it: the bytes in the donor's memory and where
/// they sit in the client's allocation. An allocation is striped round-robin: stripe s (bytes
/// [s * StripeSize, (s + 1) * StripeSize)) lives on column s % Columns, at (s / Columns) * StripeSize.
/// </summary>
public sealed class NearDataSegment(ulong leaseId, int column, int columns, int stripeSize, long allocationLength, Memory<byte> memory)
{
    /// <summary>The memory lease the segment belongs to.</summary>
    public ulong LeaseId { get; } = leaseId;

    /// <summary>This segment's place among the allocation's <see cref="Columns"/>.</summary>
    public int Column { get; } = column;

    public int Columns { get; } = columns;

    public int StripeSize { get; } = stripeSize;

    /// <summary>Length of the whole allocation (all columns).</summary>
    public long AllocationLength { get; } = allocationLength;

    /// <summary>The segment's bytes, in the donor's memory.</summary>
    public Memory<byte> Memory { get; } = memory;

    /// <summary>The segment's stripes in order, each with the allocation offset of its first byte.</summary>
    public IEnumerable<(long AllocationOffset, Memory<byte> Bytes)> Stripes()
    {
        for (long local = 0; local < Memory.Length; local += StripeSize)
        {
            long stripe = local / StripeSize * Columns + Column;
            long offset = stripe * StripeSize;
            if (offset >= AllocationLength) yield break;
            int length = (int)Math.Min(Math.Min(StripeSize, Memory.Length - local), AllocationLength - offset);
            yield return (offset, Memory.Slice((int)local, length));
        }
    }
}
