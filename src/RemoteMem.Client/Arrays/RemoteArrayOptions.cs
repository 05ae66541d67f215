namespace RemoteMem.Client;

/// <summary>How a <see cref="RemoteArray{T}"/> is laid out and cached.</summary>
public sealed class RemoteArrayOptions
{
    /// <summary>Bytes per cached page: a power of two, at least 4 KiB. Default 64 KiB.</summary>
    public int PageSize { get; set; } = 64 << 10;

    /// <summary>Local cache size in bytes (pinned native memory, allocated once); at least one page. Default 64 MiB.</summary>
    public long CacheBytes { get; set; } = 64L << 20;

    /// <summary>Pages fetched ahead once access looks sequential (two or more consecutive page misses). 0 turns read-ahead off.</summary>
    public int ReadAheadPages { get; set; } = 8;

    /// <summary>
    /// A read or write of at least this many bytes none of whose whole pages is cached (nor being loaded
    /// or written back) moves straight between the caller's buffer and the donors, without passing
    /// through the cache or displacing what it holds: a large scan costs one copy, not two, and leaves the
    /// cache to the pages that are reused (as O_DIRECT does). A direct write is in remote memory when it
    /// completes; misses on its pages wait for it. Cached pages of the range, and the partial pages at its
    /// ends, still go through the cache. Direct reads (<c>Read</c> or <c>ReadAsync</c>) that continue one
    /// another read the next blocks ahead (<see cref="DirectReadAheadBytes"/>). Default 256 KiB; 0 sends
    /// everything through the cache.
    /// </summary>
    public int DirectTransferBytes { get; set; } = 256 << 10;

    /// <summary>
    /// How far a scan of direct reads (reads of <see cref="DirectTransferBytes"/> or more that continue
    /// one another) reads ahead of the caller: the next blocks of the same size, as many as fit in this
    /// many bytes (at least one, at most 16). Their bytes wait in the sockets until the caller's reads
    /// claim them (see <c>RemoteMemClientOptions.ReadAheadHold</c>), so this bounds what a scan holds in
    /// flight, not memory of its own. One block ahead leaves the donors idle whenever the caller or a
    /// donor falls behind for a moment; four keep them streaming. A page miss or write on a donor's
    /// connection waits behind what is already in flight on it. Default 4 MiB; 0 turns it off.
    /// </summary>
    public int DirectReadAheadBytes { get; set; } = 4 << 20;

    /// <summary>Donors to stripe over (0: the manager decides).</summary>
    public int StripeCount { get; set; }

    /// <summary>Stripe size in bytes (0: the manager's default).</summary>
    public int StripeSize { get; set; }

    /// <summary>
    /// Copies of the data on different donors (and nodes): 1 (default), 2 or 3. Writes reach every copy
    /// before they complete; reads use one; when a donor dies the others carry on without an error.
    /// </summary>
    public int Replicas { get; set; } = 1;

    /// <summary>
    /// When a donor holding this data leaves and no other donor has room, write it to the manager's
    /// spill folder (a shared file system; `remotemem manager --spill-dir`) instead of losing it. Reads
    /// and writes of spilled data go to the file: slow, but nothing is lost. Default off.
    /// </summary>
    public bool AllowSpill { get; set; }

    internal void Validate()
    {
        if (PageSize < 4096 || (PageSize & (PageSize - 1)) != 0)
            throw new ArgumentException($"PageSize {PageSize} must be a power of two of at least 4096 bytes.", nameof(PageSize));
        if (CacheBytes < PageSize)
            throw new ArgumentException($"CacheBytes {CacheBytes} is smaller than one page ({PageSize} bytes).", nameof(CacheBytes));
        if (CacheBytes / PageSize > int.MaxValue)
            throw new ArgumentException("CacheBytes holds too many pages; use larger pages.", nameof(CacheBytes));
        if (ReadAheadPages < 0) throw new ArgumentException("ReadAheadPages must not be negative.", nameof(ReadAheadPages));
        if (DirectTransferBytes < 0) throw new ArgumentException("DirectTransferBytes must not be negative.", nameof(DirectTransferBytes));
        if (DirectReadAheadBytes < 0) throw new ArgumentException("DirectReadAheadBytes must not be negative.", nameof(DirectReadAheadBytes));
    }
}
