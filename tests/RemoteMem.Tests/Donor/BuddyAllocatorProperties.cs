using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using RemoteMem.Services.Donor.Internal;

namespace RemoteMem.Tests.Donor;

/// <summary>The allocator against a model: a list of live ranges that must never overlap, and exact free-byte accounting.</summary>
public sealed class BuddyAllocatorProperties
{
    private const long Block = 4096;

    [Property(MaxTest = 200)]
    public void Allocations_never_overlap_and_freeing_everything_restores_one_pool(PositiveInt capacityBlocks, int[] requests)
    {
        long capacity = (capacityBlocks.Get % 5000 + 1) * Block + capacityBlocks.Get % 3; // odd sizes too
        var allocator = new BuddyAllocator(capacity);
        long usable = allocator.Capacity;
        var live = new List<(long Offset, long Length)>();
        foreach (var request in requests ?? [])
        {
            if (request % 3 == 0 && live.Count > 0)
            {
                var victim = live[Math.Abs(request) % live.Count];
                live.Remove(victim);
                allocator.Free(victim.Offset, victim.Length);
            }
            else
            {
                long length = Math.Abs((long)request) % (usable / 2 + 1) + 1;
                if (allocator.TryAllocate(length, out long offset))
                {
                    Assert.Equal(0, offset % Block);
                    Assert.True(offset + allocator.RoundUp(length) <= usable);
                    foreach (var (o, l) in live)
                        Assert.True(offset + allocator.RoundUp(length) <= o || o + allocator.RoundUp(l) <= offset, $"[{offset},+{length}) overlaps [{o},+{l})");
                    live.Add((offset, length));
                }
                else
                {
                    // Refusal is only allowed when no free block is big enough.
                    Assert.True(allocator.LargestFree < allocator.RoundUp(length));
                }
            }

            Assert.Equal(usable - live.Sum(r => allocator.RoundUp(r.Length)), allocator.FreeBytes);
            Assert.Equal(allocator.FreeBytes, allocator.FreeBlocks().Sum(b => b.Size));
        }

        foreach (var (o, l) in live) allocator.Free(o, l);
        Assert.Equal(usable, allocator.FreeBytes);
        // Fully merged: the free blocks are exactly the maximal aligned decomposition of the pool.
        Assert.Equal(FreshBlocks(usable), allocator.FreeBlocks().OrderBy(b => b.Offset).ToList());
    }

    private static List<(long, long)> FreshBlocks(long capacity) => new BuddyAllocator(capacity).FreeBlocks().OrderBy(b => b.Offset).ToList();

    [Fact]
    public void An_exact_size_allocation_costs_its_size_not_the_next_power_of_two()
    {
        var allocator = new BuddyAllocator(16 * Block);
        Assert.True(allocator.TryAllocate(5 * Block, out var first));
        Assert.Equal(11 * Block, allocator.FreeBytes);
        // The tail of the 8-block it was cut from went back as aligned pieces of 1, 2 and 8 blocks.
        Assert.True(allocator.TryAllocate(8 * Block, out var second));
        Assert.True(allocator.TryAllocate(2 * Block, out var third));
        Assert.True(allocator.TryAllocate(1 * Block, out var fourth));
        Assert.Equal(4, new[] { first, second, third, fourth }.Distinct().Count());
        Assert.Equal(0, allocator.FreeBytes);
        Assert.False(allocator.TryAllocate(1, out _));
    }
}
