namespace RemoteMem.Client;

/// <summary>Sizes and limits of a <see cref="RemoteKv"/>.</summary>
public sealed class RemoteKvOptions
{
    /// <summary>Remote bytes for the record log. Compaction needs a second log of the same size while it runs. Default 256 MiB.</summary>
    public long Capacity { get; set; } = 256L << 20;

    /// <summary>Local cache for the log (pinned native memory); at least two pages are always kept. Default 16 MiB.</summary>
    public long CacheBytes { get; set; } = 16L << 20;

    /// <summary>Cache page size (a power of two, at least 4 KiB). Default 64 KiB.</summary>
    public int PageSize { get; set; } = 64 << 10;

    /// <summary>Longest key in bytes (at most 65535). Default 4096.</summary>
    public int MaxKeyBytes { get; set; } = 4096;

    /// <summary>Longest value in bytes. Default 16 MiB.</summary>
    public int MaxValueBytes { get; set; } = 16 << 20;

    /// <summary>Compact when overwritten and deleted records exceed this fraction of the log. Default 0.5.</summary>
    public double CompactionThreshold { get; set; } = 0.5;

    /// <summary>Donors to stripe the log over (0: the manager decides).</summary>
    public int StripeCount { get; set; }

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

    /// <summary>For tests: bits of the key hash the index uses (fewer bits force collisions).</summary>
    internal int HashBits { get; set; } = 64;

    internal RemoteArrayOptions ArrayOptions() => new()
    {
        PageSize = PageSize,
        CacheBytes = Math.Max(CacheBytes, 2L * PageSize),
        ReadAheadPages = 0, // point lookups: read-ahead would only waste bandwidth
        StripeCount = StripeCount,
        Replicas = Replicas,
        AllowSpill = AllowSpill,
    };

    internal void Validate()
    {
        if (MaxKeyBytes is < 1 or > ushort.MaxValue)
            throw new ArgumentException($"MaxKeyBytes must be between 1 and {ushort.MaxValue}.", nameof(MaxKeyBytes));
        if (MaxValueBytes < 0) throw new ArgumentException("MaxValueBytes must not be negative.", nameof(MaxValueBytes));
        if (Capacity < 4L * (KeyValue.Internal.KvRecord.HeaderSize + MaxKeyBytes + (long)MaxValueBytes))
            throw new ArgumentException($"Capacity {Capacity} must hold at least four records of the largest size ({KeyValue.Internal.KvRecord.HeaderSize + MaxKeyBytes + (long)MaxValueBytes} bytes); raise Capacity or lower MaxValueBytes.", nameof(Capacity));
        if (CompactionThreshold is <= 0 or >= 1)
            throw new ArgumentException("CompactionThreshold must be between 0 and 1.", nameof(CompactionThreshold));
        ArrayOptions().Validate();
    }
}
