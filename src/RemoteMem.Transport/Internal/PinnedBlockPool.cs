using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace RemoteMem.Transport.Internal;

/// <summary>
/// A pool of pinned 64 KiB blocks for the socket pipes, after Kestrel's PinnedBlockMemoryPool. The
/// shared array pool allocates a wrapper per rent and misses when buffers hop threads, which is what
/// the pipes do all day; here a block and its owner object are allocated once and reused forever, and
/// pinned blocks let the socket use them without pinning per call.
/// </summary>
internal sealed class PinnedBlockPool : MemoryPool<byte>
{
    public const int BlockSize = 64 * 1024;

    public static PinnedBlockPool Instance { get; } = new();

    private readonly ConcurrentQueue<Block> _blocks = new();

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, $"Blocks are {BlockSize} bytes.");
        return _blocks.TryDequeue(out var block) ? block : new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block(PinnedBlockPool pool) : MemoryManager<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);

        public override Span<byte> GetSpan() => _array;

        public override Memory<byte> Memory => CreateMemory(BlockSize);

        public override unsafe MemoryHandle Pin(int elementIndex = 0) =>
            new((byte*)Marshal.UnsafeAddrOfPinnedArrayElement(_array, elementIndex), default, this);

        public override void Unpin()
        {
        }

        // Pipe returns a segment's memory by disposing its owner: that puts the block back.
        protected override void Dispose(bool disposing) => pool._blocks.Enqueue(this);

        protected override bool TryGetArray(out ArraySegment<byte> segment)
        {
            segment = new ArraySegment<byte>(_array);
            return true;
        }
    }
}
