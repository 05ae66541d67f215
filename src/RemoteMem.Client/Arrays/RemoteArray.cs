using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RemoteMem.Client.Arrays.Internal;

namespace RemoteMem.Client;

/// <summary>
/// An array of <typeparamref name="T"/> in remote memory, used like a local one through a local page
/// cache: reads and writes go to cached pages and are written back on eviction, on
/// <see cref="Flush"/>/<see cref="FlushAsync"/> and never silently lost (a failed write-back keeps the
/// page dirty and throws). Thread-safe: concurrent readers and writers of different elements need no
/// locking; concurrent writes to the same element land in an unspecified order. Out-of-range access
/// throws <see cref="ArgumentOutOfRangeException"/> before any network traffic.
/// Data in the cache that was not flushed is lost with the array on <see cref="DisposeAsync"/>.
/// When a donor holding part of the array dies, every later access throws
/// <see cref="LeaseLostException"/>: nothing reads as zeros or stale data.
/// </summary>
public sealed class RemoteArray<T> : IAsyncDisposable where T : unmanaged
{
    private static readonly int ElementSize = Unsafe.SizeOf<T>();
    private readonly RemoteMemClient _client;
    private readonly RemoteAllocation _allocation;
    private readonly PageCache _cache;
    private readonly DirectReadAhead _readAhead;
    private int _disposed;

    internal RemoteArray(RemoteMemClient client, RemoteAllocation allocation, PageCache cache, long length, int readAheadBytes)
    {
        _client = client;
        _allocation = allocation;
        _cache = cache;
        _readAhead = new DirectReadAhead(allocation, cache, readAheadBytes);
        Length = length;
    }

    /// <summary>False when opened read-only by name (<see cref="RemoteMemClient.OpenArrayAsync"/>): writes throw.</summary>
    public bool IsWritable => _allocation.IsWritable;

    /// <summary>
    /// Publishes the array under <paramref name="name"/> so other processes (e.g. the other ranks of an
    /// MPI job) can open it with <see cref="RemoteMemClient.OpenArrayAsync"/>. The data stays alive while
    /// any holder keeps its handle. Consistency is flush-to-publish: what a writer has flushed before
    /// another process opens (or <see cref="RefreshAsync"/>es a range) is what that process reads.
    /// </summary>
    public Task PublishAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return _client.PublishAsync(_allocation, name, ArrayMetadata.Encode<T>(Length), cancellationToken);
    }

    /// <summary>
    /// Drops this process's cached copy of [index, index + count) (after writing back its own changes),
    /// so the next reads see what other holders have flushed since. Pinned pages are not refreshed.
    /// </summary>
    public Task RefreshAsync(long index, long count, CancellationToken cancellationToken = default)
    {
        CheckRange(index, count);
        if (count == 0) return Task.CompletedTask;
        _readAhead.Cancel();
        return _cache.InvalidateAsync(index * ElementSize >> _cache.PageShift, ((index + count) * ElementSize - 1) >> _cache.PageShift, cancellationToken);
    }

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>Bytes per cached page.</summary>
    public int PageSize => _cache.PageSize;

    /// <summary>Elements that fit in one page (the most one <see cref="Pin"/> can cover).</summary>
    public int ElementsPerPage => _cache.PageSize / ElementSize;

    internal RemoteAllocation Allocation => _allocation;

    internal PageCache Cache => _cache;

    internal DirectReadAhead ReadAhead => _readAhead;

    /// <summary>The lease behind the array (for diagnostics and status).</summary>
    public ulong LeaseId => _allocation.LeaseId;

    /// <summary>One element. A miss blocks until the page arrives; prefer the span and async forms in loops.</summary>
    public T this[long index]
    {
        get
        {
            T value = default;
            Read(index, MemoryMarshal.CreateSpan(ref value, 1));
            return value;
        }

        set => Write(index, MemoryMarshal.CreateReadOnlySpan(ref value, 1));
    }

    /// <summary>Copies <c>destination.Length</c> elements starting at <paramref name="index"/>.</summary>
    public void Read(long index, Span<T> destination)
    {
        CheckRange(index, destination.Length);
        var bytes = MemoryMarshal.AsBytes(destination);
        long offset = index * ElementSize;
        if (_cache.TryDirectSpan(offset, bytes.Length, out long direct, out int directLength))
        {
            // Cached head page, the uncached whole pages straight from the donors, cached tail page.
            int head = (int)(direct - offset);
            ReadCached(offset, bytes[..head]);
            ReadDirect(direct, bytes.Slice(head, directLength));
            ReadCached(direct + directLength, bytes[(head + directLength)..]);
            return;
        }

        if (bytes.Length > _cache.PageSize) _cache.PrefetchForRead(offset >> _cache.PageShift, (offset + bytes.Length - 1) >> _cache.PageShift);
        ReadCached(offset, bytes);
    }

    // Blocks on the read-ahead path as RemoteAllocation.Read blocks on its transfer: a scan through the
    // Span API reads ahead too.
    private unsafe void ReadDirect(long offset, Span<byte> bytes)
    {
        fixed (byte* local = bytes) RemoteAllocation.Wait(_readAhead.ReadAsync(offset, (nint)local, bytes.Length, CancellationToken.None));
    }

    private void ReadCached(long offset, Span<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var frame = _cache.Acquire(offset >> _cache.PageShift);
            int n = CopyOut(frame, offset, bytes);
            bytes = bytes[n..];
            offset += n;
        }
    }

    /// <summary>Copies <paramref name="source"/> to the array starting at <paramref name="index"/>.</summary>
    public void Write(long index, ReadOnlySpan<T> source)
    {
        CheckRange(index, source.Length);
        CheckWritable();
        var bytes = MemoryMarshal.AsBytes(source);
        long offset = index * ElementSize;
        var direct = _cache.TryBeginDirectWrite(offset, bytes.Length);
        if (direct is null)
        {
            WriteCached(offset, bytes);
            return;
        }

        int head = (int)(direct.Offset - offset);
        _readAhead.Cancel();
        try
        {
            _allocation.Write(direct.Offset, bytes.Slice(head, direct.Length));
        }
        finally
        {
            _cache.EndDirectWrite(direct);
        }

        WriteCached(offset, bytes[..head]);
        WriteCached(direct.Offset + direct.Length, bytes[(head + direct.Length)..]);
    }

    private void WriteCached(long offset, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            long page = offset >> _cache.PageShift;
            var frame = CoversPage(offset, bytes.Length, page)
                ? _cache.AcquireForOverwriteAsync(page).AsTask().GetAwaiter().GetResult()
                : _cache.Acquire(page);
            int n = CopyIn(frame, offset, bytes);
            bytes = bytes[n..];
            offset += n;
        }
    }

    /// <summary>Asynchronous <see cref="Read"/>: waits for page misses without blocking a thread.</summary>
    public async ValueTask ReadAsync(long index, Memory<T> destination, CancellationToken cancellationToken = default)
    {
        CheckRange(index, destination.Length);
        long offset = index * ElementSize;
        int total = destination.Length * ElementSize;
        if (_cache.TryDirectSpan(offset, total, out long direct, out int directLength))
        {
            int head = (int)(direct - offset);
            await ReadCachedAsync(offset, destination, 0, head, cancellationToken).ConfigureAwait(false);
            using (var pin = destination.Pin())
                await _readAhead.ReadAsync(direct, Address(pin, head), directLength, cancellationToken).ConfigureAwait(false);
            await ReadCachedAsync(direct + directLength, destination, head + directLength, total, cancellationToken).ConfigureAwait(false);
            return;
        }

        // A range over several pages: ask for all of them at once, so the misses travel in parallel.
        if (total > _cache.PageSize) _cache.PrefetchForRead(offset >> _cache.PageShift, (offset + total - 1) >> _cache.PageShift);
        await ReadCachedAsync(offset, destination, 0, total, cancellationToken).ConfigureAwait(false);
    }

    // Bytes [from, to) of destination (viewed as bytes), from the cache, starting at `offset` in the array.
    private async ValueTask ReadCachedAsync(long offset, Memory<T> destination, int from, int to, CancellationToken cancellationToken)
    {
        while (from < to)
        {
            var frame = await _cache.AcquireAsync(offset >> _cache.PageShift, cancellationToken).ConfigureAwait(false);
            int n = CopyOut(frame, offset, MemoryMarshal.AsBytes(destination.Span)[from..to]);
            from += n;
            offset += n;
        }
    }

    private static unsafe nint Address(System.Buffers.MemoryHandle pin, int byteOffset) => (nint)((byte*)pin.Pointer + byteOffset);

    /// <summary>Asynchronous <see cref="Write"/>.</summary>
    public ValueTask WriteAsync(long index, ReadOnlyMemory<T> source, CancellationToken cancellationToken = default) =>
        WriteCoreAsync(index, source, long.MaxValue, cancellationToken);

    /// <summary>
    /// A write into space that has never been written from <paramref name="freshFromByte"/> on (the
    /// key-value log's tail): pages starting there are not fetched before they are written.
    /// </summary>
    internal ValueTask AppendAsync(long index, ReadOnlyMemory<T> source, long freshFromByte, CancellationToken cancellationToken = default) =>
        WriteCoreAsync(index, source, freshFromByte, cancellationToken);

    private async ValueTask WriteCoreAsync(long index, ReadOnlyMemory<T> source, long freshFromByte, CancellationToken cancellationToken)
    {
        CheckRange(index, source.Length);
        CheckWritable();
        long offset = index * ElementSize;
        int total = source.Length * ElementSize;
        var direct = _cache.TryBeginDirectWrite(offset, total);
        if (direct is null)
        {
            await WriteCachedAsync(offset, source, 0, total, freshFromByte, cancellationToken).ConfigureAwait(false);
            return;
        }

        // The uncached whole pages straight to the donors, then the partial pages at both ends through the cache.
        int head = (int)(direct.Offset - offset);
        _readAhead.Cancel();
        try
        {
            using var pin = source.Pin();
            await _allocation.WriteNativeAsync(direct.Offset, Address(pin, head), direct.Length, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _cache.EndDirectWrite(direct);
        }

        await WriteCachedAsync(offset, source, 0, head, freshFromByte, cancellationToken).ConfigureAwait(false);
        await WriteCachedAsync(direct.Offset + direct.Length, source, head + direct.Length, total, freshFromByte, cancellationToken).ConfigureAwait(false);
    }

    // Bytes [from, to) of source (viewed as bytes), through the cache, starting at `offset` in the array.
    private async ValueTask WriteCachedAsync(long offset, ReadOnlyMemory<T> source, int from, int to, long freshFromByte, CancellationToken cancellationToken)
    {
        while (from < to)
        {
            long page = offset >> _cache.PageShift;
            var frame = CoversPage(offset, to - from, page) || page << _cache.PageShift >= freshFromByte
                ? await _cache.AcquireForOverwriteAsync(page, cancellationToken).ConfigureAwait(false)
                : await _cache.AcquireAsync(page, cancellationToken).ConfigureAwait(false);
            int n = CopyIn(frame, offset, MemoryMarshal.AsBytes(source.Span)[from..to]);
            from += n;
            offset += n;
        }
    }

    /// <summary>
    /// Pins <paramref name="count"/> elements in the cache and gives a <see cref="Span{T}"/> straight
    /// over the cached page (no copy) until the handle is disposed. The range must lie within one page
    /// (use <see cref="ElementsPerPage"/>-sized, page-aligned chunks); a range that crosses a page
    /// boundary throws <see cref="ArgumentException"/>. With <paramref name="writable"/> the page is
    /// marked written. A pinned page is never evicted, so pin briefly.
    /// </summary>
    public PinnedRange<T> Pin(long index, int count, bool writable = true)
    {
        CheckRange(index, count);
        long offset = index * ElementSize;
        long page = offset >> _cache.PageShift;
        int inPage = (int)(offset & (_cache.PageSize - 1));
        if (inPage + (long)count * ElementSize > _cache.PageLength(page))
            throw new ArgumentException($"Elements [{index}, +{count}) cross a page boundary; pin at most {ElementsPerPage} elements within one page.", nameof(count));
        if (writable) CheckWritable();
        var frame = _cache.Acquire(page);
        if (writable) PageCache.MarkDirty(frame);
        return new PinnedRange<T>(frame, MemoryMarshal.Cast<byte, T>(_cache.Memory(frame, inPage, count * ElementSize)));
    }

    /// <summary>Starts fetching the pages of [index, index + count) in the background.</summary>
    public void Prefetch(long index, long count)
    {
        if (count == 0) return;
        CheckRange(index, count);
        _cache.Prefetch(index * ElementSize >> _cache.PageShift, ((index + count) * ElementSize - 1) >> _cache.PageShift);
    }

    /// <summary>Writes every changed page back to remote memory.</summary>
    public void Flush() => FlushAsync().GetAwaiter().GetResult();

    /// <summary>Asynchronous <see cref="Flush"/>.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        _readAhead.Cancel();
        return _cache.FlushAsync(cancellationToken);
    }

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public void Fill(T value)
    {
        var chunk = new T[Math.Max(1, ElementsPerPage)];
        Array.Fill(chunk, value);
        for (long i = 0; i < Length; i += chunk.Length)
            Write(i, chunk.AsSpan(0, (int)Math.Min(chunk.Length, Length - i)));
    }

    /// <summary>Copies all elements to <paramref name="destination"/>, which must be at least as long.</summary>
    public async Task CopyToAsync(RemoteArray<T> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.Length < Length)
            throw new ArgumentException($"Destination holds {destination.Length} elements; {Length} are needed.", nameof(destination));
        var chunk = new T[Math.Max(1, ElementsPerPage)];
        for (long i = 0; i < Length; i += chunk.Length)
        {
            var part = chunk.AsMemory(0, (int)Math.Min(chunk.Length, Length - i));
            await ReadAsync(i, part, cancellationToken).ConfigureAwait(false);
            await destination.WriteAsync(i, part, cancellationToken).ConfigureAwait(false);
        }
    }

    private int CopyOut(Frame frame, long offset, Span<byte> destination)
    {
        try
        {
            int inPage = (int)(offset & (_cache.PageSize - 1));
            int n = Math.Min(destination.Length, _cache.PageSize - inPage);
            _cache.Memory(frame, inPage, n).CopyTo(destination);
            return n;
        }
        finally
        {
            PageCache.Release(frame);
        }
    }

    private int CopyIn(Frame frame, long offset, ReadOnlySpan<byte> source)
    {
        try
        {
            int inPage = (int)(offset & (_cache.PageSize - 1));
            int n = Math.Min(source.Length, _cache.PageSize - inPage);
            source[..n].CopyTo(_cache.Memory(frame, inPage, n));
            PageCache.CompleteOverwrite(frame);
            return n;
        }
        finally
        {
            PageCache.Release(frame);
        }
    }

    /// <summary>A write of <paramref name="length"/> bytes at <paramref name="offset"/> replaces all of <paramref name="page"/>: no need to read it first.</summary>
    private bool CoversPage(long offset, long length, long page) =>
        (offset & (_cache.PageSize - 1)) == 0 && length >= _cache.PageLength(page);

    private void CheckWritable()
    {
        if (!IsWritable) throw new InvalidOperationException("This array was opened read-only; open it with writable: true to change it.");
    }

    private void CheckRange(long index, long count)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (index < 0 || count < 0 || index > Length || count > Length - index)
            throw new ArgumentOutOfRangeException(nameof(index), $"[{index}, +{count}) is outside the array's {Length} elements.");
        // Once the lease is lost even cached pages are refused: they could never be written back.
        _allocation.ThrowIfLost();
    }

    /// <summary>Releases the lease and the cache; unflushed changes are discarded with the data.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _readAhead.Dispose();
        await _allocation.DisposeAsync().ConfigureAwait(false);
        _cache.Dispose();
    }
}

/// <summary>A pinned range of a <see cref="RemoteArray{T}"/>'s cache; dispose it to unpin.</summary>
public ref struct PinnedRange<T> where T : unmanaged
{
    private Frame? _frame;

    internal PinnedRange(Frame frame, Span<T> span)
    {
        _frame = frame;
        Span = span;
    }

    /// <summary>The elements, directly over cached memory. Valid until <see cref="Dispose"/>.</summary>
    public Span<T> Span { get; private set; }

    public void Dispose()
    {
        if (_frame is null) return;
        PageCache.Release(_frame);
        _frame = null;
        Span = default;
    }
}
