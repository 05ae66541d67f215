namespace RemoteMem.Services.Donor.Internal;

/// <summary>
/// A binary buddy allocator over [0, capacity) with exact-size allocations.
/// <para>
/// A request is rounded up to the block size (4 KiB by default, a page, so freed ranges can be
/// returned to the OS), served from the smallest free power-of-two block that fits, and the unused
/// tail of that block is given back at once as smaller aligned blocks. So a 3 MiB segment costs
/// 3 MiB, not 4; freed blocks merge with their buddies, which bounds external fragmentation.
/// Free lists are sorted sets, so allocation prefers low addresses (keeps the pool's high end untouched
/// and uncommitted). Not thread-safe: the caller locks.
/// </para>
/// </summary>
internal sealed class BuddyAllocator
{
    private readonly SortedSet<long>[] _freeByOrder;
    private readonly int _blockShift;

    public BuddyAllocator(long capacity, int blockShift = 12)
    {
        if (blockShift is < 6 or > 30) throw new ArgumentOutOfRangeException(nameof(blockShift));
        _blockShift = blockShift;
        BlockSize = 1L << blockShift;
        Capacity = capacity & ~(BlockSize - 1);
        if (Capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"Capacity must be at least one block of {BlockSize} bytes.");
        int orders = 63 - blockShift;
        _freeByOrder = new SortedSet<long>[orders];
        for (int i = 0; i < orders; i++) _freeByOrder[i] = new SortedSet<long>();
        AddRange(0, Capacity);
        FreeBytes = Capacity;
    }

    public long Capacity { get; }

    public long BlockSize { get; }

    public long FreeBytes { get; private set; }

    /// <summary>The largest single allocation that would succeed now.</summary>
    public long LargestFree
    {
        get
        {
            for (int order = _freeByOrder.Length - 1; order >= 0; order--)
                if (_freeByOrder[order].Count > 0) return BlockSizeOf(order);
            return 0;
        }
    }

    /// <summary>Rounds a length up to the block size.</summary>
    public long RoundUp(long length) => (length + BlockSize - 1) & ~(BlockSize - 1);

    /// <summary>Allocates <paramref name="length"/> bytes (rounded up to the block size). False when no block fits.</summary>
    public bool TryAllocate(long length, out long offset)
    {
        offset = -1;
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), length, "Length must be positive.");
        long size = RoundUp(length);
        if (size > FreeBytes) return false;
        int wanted = OrderFor(size);
        if (wanted >= _freeByOrder.Length) return false;
        int order = wanted;
        while (order < _freeByOrder.Length && _freeByOrder[order].Count == 0) order++;
        if (order >= _freeByOrder.Length) return false;

        var list = _freeByOrder[order];
        long block = list.Min;
        list.Remove(block);
        // Give back [block + size, block + blockSize): aligned pieces, smallest first.
        AddRange(block + size, block + BlockSizeOf(order));
        FreeBytes -= size;
        offset = block;
        return true;
    }

    /// <summary>Frees a range returned by <see cref="TryAllocate"/> with the same length.</summary>
    public void Free(long offset, long length)
    {
        long size = RoundUp(length);
        if (offset < 0 || (offset & (BlockSize - 1)) != 0 || size <= 0 || offset + size > Capacity)
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) is not an allocated range of this pool.");
        FreeBytes += size;
        AddRange(offset, offset + size);
    }

    /// <summary>Adds [start, end) to the free lists as maximal aligned power-of-two blocks, merging buddies.</summary>
    private void AddRange(long start, long end)
    {
        while (start < end)
        {
            int order = 0;
            while (order + 1 < _freeByOrder.Length
                   && (start & (BlockSizeOf(order + 1) - 1)) == 0
                   && start + BlockSizeOf(order + 1) <= end)
                order++;
            FreeBlock(start, order);
            start += BlockSizeOf(order);
        }
    }

    private void FreeBlock(long block, int order)
    {
        while (order + 1 < _freeByOrder.Length)
        {
            long buddy = block ^ BlockSizeOf(order);
            if (buddy + BlockSizeOf(order) > Capacity || !_freeByOrder[order].Remove(buddy)) break;
            block = Math.Min(block, buddy);
            order++;
        }

        if (!_freeByOrder[order].Add(block))
            throw new InvalidOperationException($"Double free of block {block} (order {order}).");
    }

    private long BlockSizeOf(int order) => 1L << (order + _blockShift);

    private int OrderFor(long size)
    {
        int order = 0;
        while (BlockSizeOf(order) < size) order++;
        return order;
    }

    /// <summary>For tests: every free block as (offset, size).</summary>
    internal IEnumerable<(long Offset, long Size)> FreeBlocks()
    {
        for (int order = 0; order < _freeByOrder.Length; order++)
            foreach (var block in _freeByOrder[order]) yield return (block, BlockSizeOf(order));
    }
}
