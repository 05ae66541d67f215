using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using RemoteMem.Transport;

namespace RemoteMem.Client.Arrays.Internal;

/// <summary>
/// A write-back page cache over one remote allocation, in pinned native memory allocated once
/// (exactly <c>frames × pageSize</c> bytes). Eviction is CLOCK; dirty pages are written back on
/// eviction and on flush; two consecutive page misses start read-ahead.
/// <para>
/// Hits take no lock and allocate nothing: look the page up, pin the frame, then re-check that the
/// frame still holds the page and is loaded. Eviction (under the lock) detaches a frame first, then
/// checks its pins: since a hit pins before it checks and an eviction detaches before it checks, one
/// of them always sees the other, and a frame in use is never taken. Misses hold the lock only to
/// choose and map a frame; their I/O runs outside it, many at once.
/// </para>
/// </summary>
internal sealed class PageCache : IDisposable
{
    private readonly RemoteAllocation _backing;
    private readonly Frame[] _frames;
    private readonly ConcurrentDictionary<long, Frame> _table = new();
    private readonly Dictionary<long, Task> _writingBack = [];
    private readonly object _lock = new();
    private readonly int _readAhead;
    private readonly int _directTransferBytes;
    private readonly TimeSpan _frameWait;
    private nint _memory;
    private IDisposable? _registration;
    private int _hand;
    private long _lastMiss = -2;
    private long _lastRangeEnd = -2;
    private int _sequentialMisses;

    // Writes on their way to remote memory (write-backs, direct writes, refreshes), and a count bumped as
    // each starts and as it ends: a read sent ahead while none was in flight is current while the count
    // has not moved (see DirectReadAhead).
    private int _remoteWrites;
    private long _writeEpoch;

    public PageCache(RemoteAllocation backing, int pageSize, long cacheBytes, int readAheadPages, TimeSpan frameWait, int directTransferBytes = 0)
    {
        _directTransferBytes = directTransferBytes;
        _frameWait = frameWait;
        _backing = backing;
        PageSize = pageSize;
        PageShift = System.Numerics.BitOperations.Log2((uint)pageSize);
        int frames = (int)Math.Min(cacheBytes / pageSize, (backing.Length + pageSize - 1) / pageSize);
        _frames = new Frame[frames];
        for (int i = 0; i < frames; i++) _frames[i] = new Frame(i);
        _memory = AllocateFrames(frames, pageSize);
        // Registered once with a transport that wants it (RDMA): pages then move straight between the
        // donors' memory and these frames, with no intermediate copy.
        _registration = (backing.Transport as Transport.ILocalMemoryRegistry)?.RegisterLocal(_memory, (long)frames * pageSize);
        _readAhead = Math.Min(readAheadPages, frames / 2);
    }

    public int PageSize { get; }

    public int PageShift { get; }

    public int FrameCount => _frames.Length;

    /// <summary>Moves whenever a write to remote memory starts or ends; read before <see cref="RemoteWritesInFlight"/>.</summary>
    public long WriteEpoch => Interlocked.Read(ref _writeEpoch);

    public bool RemoteWritesInFlight => Volatile.Read(ref _remoteWrites) != 0;

    private void BeginRemoteWrite()
    {
        Interlocked.Increment(ref _remoteWrites);
        Interlocked.Increment(ref _writeEpoch);
    }

    private void EndRemoteWrite()
    {
        Interlocked.Increment(ref _writeEpoch);
        Interlocked.Decrement(ref _remoteWrites);
    }

    /// <summary>
    /// For a read of [<paramref name="offset"/>, +<paramref name="length"/>): the span of its whole pages
    /// when it reaches the direct-transfer threshold and none of those pages is cached, loading or being
    /// written back, so the caller may read it straight from remote memory (see
    /// <c>RemoteArrayOptions.DirectTransferBytes</c>). A page that a writer brings in meanwhile is a
    /// concurrent access: the read sees its old or its new bytes, as with a page read through the cache.
    /// </summary>
    public bool TryDirectSpan(long offset, long length, out long spanOffset, out int spanLength)
    {
        if (!WholePages(offset, length, out long first, out long stop, out spanOffset, out spanLength)) return false;
        lock (_lock) return NoneMapped(first, stop);
    }

    /// <summary>A direct write in progress: its whole pages, which misses wait for as for a write-back.</summary>
    public sealed record DirectWrite(long FirstPage, long StopPage, long Offset, int Length, TaskCompletionSource Done);

    /// <summary>
    /// For a write of [<paramref name="offset"/>, +<paramref name="length"/>): as <see cref="TryDirectSpan"/>,
    /// and the span's pages are marked as being written, so that until <see cref="EndDirectWrite"/> a miss
    /// on them waits (as for a write-back) rather than load bytes the write is replacing.
    /// </summary>
    public DirectWrite? TryBeginDirectWrite(long offset, long length)
    {
        if (!WholePages(offset, length, out long first, out long stop, out long spanOffset, out int spanLength)) return null;
        var write = new DirectWrite(first, stop, spanOffset, spanLength, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_lock)
        {
            if (!NoneMapped(first, stop)) return null;
            for (long page = first; page < stop; page++) _writingBack[page] = write.Done.Task;
        }

        BeginRemoteWrite();
        return write;
    }

    /// <summary>Ends a direct write (done or failed): its pages may be loaded again.</summary>
    public void EndDirectWrite(DirectWrite write)
    {
        lock (_lock)
        {
            for (long page = write.FirstPage; page < write.StopPage; page++) _writingBack.Remove(page);
        }

        EndRemoteWrite();
        write.Done.SetResult();
    }

    // The whole pages [first, stop) of a transfer, and the bytes they span, if they reach the threshold.
    private bool WholePages(long offset, long length, out long first, out long stop, out long spanOffset, out int spanLength)
    {
        first = stop = spanOffset = 0;
        spanLength = 0;
        if (_directTransferBytes == 0 || length < _directTransferBytes) return false;
        long end = offset + length;
        first = (offset + PageSize - 1) >> PageShift;
        // The allocation's last page may be short: a transfer to the very end covers it whole.
        stop = end == _backing.Length ? LastPage + 1 : end >> PageShift;
        long spanEnd = Math.Min(stop << PageShift, _backing.Length);
        spanOffset = first << PageShift;
        if (spanEnd - spanOffset < _directTransferBytes) return false;
        spanLength = (int)(spanEnd - spanOffset);
        return true;
    }

    // Under the lock: no page of [first, stop) is cached, loading, or being written back.
    private bool NoneMapped(long first, long stop)
    {
        for (long page = first; page < stop; page++)
            if (_table.ContainsKey(page) || _writingBack.ContainsKey(page)) return false;
        return true;
    }

    /// <summary>Bytes of the allocation that page <paramref name="page"/> covers (the last page may be short).</summary>
    public int PageLength(long page) => (int)Math.Min(PageSize, _backing.Length - (page << PageShift));

    private static unsafe nint AllocateFrames(int frames, int pageSize) => (nint)NativeMemory.AlignedAlloc((nuint)frames * (nuint)pageSize, 4096);

    public unsafe Span<byte> Memory(Frame frame, int offset, int length) =>
        new((byte*)Address(frame) + offset, length);

    private nint Address(Frame frame) => _memory + (nint)((long)frame.Index << PageShift);

    /// <summary>The hit path: the frame holding <paramref name="page"/>, pinned, or false.</summary>
    public bool TryAcquire(long page, out Frame frame)
    {
        if (_table.TryGetValue(page, out frame!))
        {
            Interlocked.Increment(ref frame.Pins);
            if (Volatile.Read(ref frame.Page) == page && frame.Loading is null)
            {
                frame.Referenced = 1;
                return true;
            }

            Interlocked.Decrement(ref frame.Pins);
        }

        frame = null!;
        return false;
    }

    /// <summary>The frame holding <paramref name="page"/>, pinned and loaded. Release it when done.</summary>
    public ValueTask<Frame> AcquireAsync(long page, CancellationToken cancellationToken = default) =>
        TryAcquire(page, out var frame) ? new ValueTask<Frame>(frame) : new ValueTask<Frame>(MissAsync(page, readAhead: true, cancellationToken));

    /// <summary>Blocking <see cref="AcquireAsync"/>.</summary>
    public Frame Acquire(long page)
    {
        if (TryAcquire(page, out var frame)) return frame;
        return MissAsync(page, readAhead: true, CancellationToken.None).GetAwaiter().GetResult();
    }

    public static void Release(Frame frame) => Interlocked.Decrement(ref frame.Pins);

    /// <summary>Marks a pinned frame written (the caller holds a pin, so eviction cannot race it).</summary>
    public static void MarkDirty(Frame frame) => frame.Dirty = true;

    /// <summary>
    /// A multi-page read of [first, last] is about to run: fetch its pages together, and when it
    /// continues where the previous one ended (a sequential scan), also a read-ahead window after it,
    /// so the pipeline does not drain between calls. The window is the larger of ReadAheadPages and
    /// two reads of this size (as the kernel's read-ahead grows with the reads it sees); it goes out as
    /// its own requests, so the read that waits does not wait for the window's bytes as well.
    /// </summary>
    public void PrefetchForRead(long firstPage, long lastPage)
    {
        long previousEnd = Interlocked.Exchange(ref _lastRangeEnd, lastPage);
        Prefetch(firstPage, lastPage);
        if (firstPage != previousEnd + 1 || _readAhead == 0) return;
        long window = Math.Max(_readAhead, 2 * (lastPage - firstPage + 1));
        if (lastPage < LastPage) Prefetch(lastPage + 1, Math.Min(lastPage + window, LastPage));
    }

    /// <summary>
    /// Starts loading pages that are not cached, without waiting. Consecutive pages whose frames need no
    /// write-back are read together (one vectored request per donor, not one request per page): at 64 KiB
    /// pages the per-request cost, not the bytes, limits a sequential scan.
    /// </summary>
    public void Prefetch(long firstPage, long lastPage)
    {
        lastPage = Math.Min(lastPage, firstPage + FrameCount / 2 - 1);
        var run = new List<(Frame Frame, long Page, TaskCompletionSource Load)>();
        List<(Frame Frame, long Evicted, long Page, TaskCompletionSource Load)>? writeBackFirst = null;
        lock (_lock)
        {
            for (long page = firstPage; page <= lastPage; page++)
            {
                if (_table.ContainsKey(page) || _writingBack.ContainsKey(page)) continue;
                var frame = Claim(page, out long evicted, out var load);
                if (frame is null) break; // every frame busy: a hint gives up rather than wait
                if (evicted >= 0 && frame.Dirty) (writeBackFirst ??= []).Add((frame, evicted, page, load!)); // its old page goes back first
                else run.Add((frame, page, load!));
            }
        }

        // The I/O starts outside the lock (a send may block).
        foreach (var (frame, evicted, page, load) in writeBackFirst ?? []) _ = LoadAndReleaseAsync(frame, evicted, page, load);
        if (run.Count == 1) _ = LoadAndReleaseAsync(run[0].Frame, Frame.Free, run[0].Page, run[0].Load);
        else if (run.Count > 1) _ = LoadRunAsync(run);
    }

    private async Task LoadAndReleaseAsync(Frame frame, long evicted, long page, TaskCompletionSource load)
    {
        try
        {
            await LoadAsync(frame, evicted, page, load, overwrite: false, CancellationToken.None).ConfigureAwait(false);
            Release(frame);
        }
        catch (Exception ex) when (ex is RemoteMemException or InvalidOperationException or OperationCanceledException)
        {
            // A hint only: the access that needs the page will report the error.
        }
    }

    // Reads freshly claimed, clean frames for several pages in one scattered read.
    private async Task LoadRunAsync(List<(Frame Frame, long Page, TaskCompletionSource Load)> run)
    {
        var ranges = new IoOp[run.Count];
        for (int i = 0; i < run.Count; i++)
            ranges[i] = new IoOp(run[i].Page << PageShift, Address(run[i].Frame), PageLength(run[i].Page));

        try
        {
            await _backing.ReadScatteredNativeAsync(ranges, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            foreach (var (frame, page, load) in run) Unload(frame, Frame.Free, page, load, wroteBack: false, ex);
            return; // a hint only: the access that needs a page reports the error
        }

        foreach (var (frame, _, load) in run)
        {
            frame.Loading = null;
            load.SetResult();
            Release(frame);
        }
    }

    /// <summary>
    /// Loads <paramref name="page"/> into a frame. When every frame is busy (pinned, or loading for
    /// other callers) a demand miss waits for one, up to the data timeout (a prefetch, in
    /// <see cref="Prefetch"/>, gives up at once rather than compete with demand misses).
    /// </summary>
    private async Task<Frame> MissAsync(long page, bool readAhead, CancellationToken cancellationToken, bool overwrite = false)
    {
        if (readAhead && _readAhead > 0) NoteMiss(page);
        long giveUp = Environment.TickCount64 + (long)_frameWait.TotalMilliseconds;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Frame? frame;
            Task? wait = null;
            long evicted;
            TaskCompletionSource? load;
            lock (_lock)
            {
                if (_table.TryGetValue(page, out var existing))
                {
                    // Loaded or being loaded by another caller: share it.
                    Interlocked.Increment(ref existing.Pins);
                    frame = existing;
                    wait = existing.Loading;
                }
                else if (_writingBack.TryGetValue(page, out var writeBack))
                {
                    // Its old frame is still being written back: reading now would see stale data.
                    frame = null;
                    wait = writeBack;
                }
                else
                {
                    frame = Claim(page, out evicted, out load);
                    if (frame is null)
                    {
                        if (Environment.TickCount64 > giveUp)
                            throw new InvalidOperationException(
                                $"Every one of the cache's {FrameCount} pages stayed pinned for {_frameWait.TotalSeconds:0.#} s; release pins sooner or use a larger CacheBytes.");
                        // Wait for any load in progress to finish (it frees a frame's pin), or briefly for a user's pin.
                        wait = _frames.Select(f => f.Loading).FirstOrDefault(t => t is not null) ?? Task.Delay(1, cancellationToken);
                        goto Busy;
                    }

                    goto Load;
                }
            }

            if (frame is null)
            {
                await AwaitQuietly(wait!).ConfigureAwait(false);
                continue;
            }

            if (wait is not null)
            {
                try
                {
                    await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    Release(frame);
                    throw;
                }
            }

            return frame;

        Load:
            await LoadAsync(frame, evicted, page, load!, overwrite, cancellationToken).ConfigureAwait(false);
            return frame;

        Busy:
            await AwaitQuietly(wait).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Under the lock: a frame (from <see cref="Evict"/>) mapped to <paramref name="page"/>, pinned, and
    /// marked loading, or null when every frame is busy. The caller must load it (<see cref="LoadAsync"/>).
    /// </summary>
    private Frame? Claim(long page, out long evicted, out TaskCompletionSource? load)
    {
        load = null;
        var frame = Evict(out evicted);
        if (frame is null) return null;
        load = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (evicted >= 0 && frame.Dirty) _writingBack[evicted] = load.Task;
        // Loading before Page: a hit that sees the new page number also sees it is not loaded yet.
        frame.Loading = load.Task;
        Interlocked.Increment(ref frame.Pins);
        frame.Referenced = 1;
        Volatile.Write(ref frame.Page, page);
        _table[page] = frame;
        return frame;
    }

    private static async Task AwaitQuietly(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The loader reports its own failure; a waiter just retries its lookup.
        }
    }

    /// <summary>Writes the evicted page back if dirty, then reads the new one. On failure the frame is undone.</summary>
    private async Task LoadAsync(Frame frame, long evicted, long page, TaskCompletionSource load, bool overwrite, CancellationToken cancellationToken)
    {
        bool wroteBack = false;
        try
        {
            if (evicted >= 0 && frame.Dirty)
            {
                BeginRemoteWrite();
                try
                {
                    await _backing.WriteNativeAsync(evicted << PageShift, Address(frame), PageLength(evicted), cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    EndRemoteWrite();
                }

                wroteBack = true;
            }

            frame.Dirty = false;
            if (overwrite)
                Memory(frame, 0, PageSize).Clear(); // whatever the writer leaves unwritten reads as zeros, not as another page's bytes
            else
                await _backing.ReadNativeAsync(page << PageShift, Address(frame), PageLength(page), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Unload(frame, evicted, page, load, wroteBack, ex);
            throw;
        }

        lock (_lock) _writingBack.Remove(evicted);
        if (overwrite)
        {
            // The caller fills the whole page, then completes the load (CompleteOverwrite); until then
            // the frame stays invisible to hits and other misses wait for it.
            frame.PendingLoad = load;
            return;
        }

        frame.Loading = null;
        load.SetResult();
    }

    /// <summary>A load failed: unmaps the frame (giving it back to a dirty evicted page that was not written back) and fails its waiters.</summary>
    private void Unload(Frame frame, long evicted, long page, TaskCompletionSource load, bool wroteBack, Exception error)
    {
        lock (_lock)
        {
            _table.TryRemove(new KeyValuePair<long, Frame>(page, frame));
            if (evicted >= 0 && frame.Dirty && !wroteBack)
            {
                // The evicted page's only copy is still in this frame: put it back, still dirty.
                Volatile.Write(ref frame.Page, evicted);
                _table[evicted] = frame;
            }
            else
            {
                Volatile.Write(ref frame.Page, Frame.Free);
            }

            _writingBack.Remove(evicted);
            frame.Loading = null;
            Interlocked.Decrement(ref frame.Pins); // ours; waiters release their own
        }

        load.SetException(error);
    }

    /// <summary>
    /// For a write that covers all of <paramref name="page"/>, or a page whose old contents do not matter
    /// (never written, like the space past a log's tail): a pinned frame for it, zero-filled, without
    /// reading the page from remote memory (a hit is returned as usual). The caller writes, then calls
    /// <see cref="CompleteOverwrite"/> before <see cref="Release"/>.
    /// </summary>
    public async ValueTask<Frame> AcquireForOverwriteAsync(long page, CancellationToken cancellationToken = default)
    {
        if (TryAcquire(page, out var frame)) return frame;
        return await MissAsync(page, readAhead: false, cancellationToken, overwrite: true).ConfigureAwait(false);
    }

    /// <summary>Marks an overwritten frame dirty and, if it was acquired without a read, makes it visible.</summary>
    public static void CompleteOverwrite(Frame frame)
    {
        frame.Dirty = true;
        var pending = frame.PendingLoad;
        if (pending is null) return;
        frame.PendingLoad = null;
        frame.Loading = null;
        pending.SetResult();
    }

    /// <summary>
    /// CLOCK under the lock: a free frame, or the first unpinned, unreferenced one, detached from its
    /// page (returned in <paramref name="evicted"/>, -1 for a free frame).
    /// </summary>
    private Frame? Evict(out long evicted)
    {
        evicted = Frame.Free;
        for (int step = 0; step < 2 * _frames.Length + 1; step++)
        {
            var frame = _frames[_hand];
            _hand = (_hand + 1) % _frames.Length;
            long page = frame.Page;
            if (page == Frame.Free && Volatile.Read(ref frame.Pins) == 0) return frame;
            if (page < 0 || frame.Loading is not null || Volatile.Read(ref frame.Pins) != 0) continue;
            if (frame.Referenced != 0)
            {
                frame.Referenced = 0;
                continue;
            }

            if (!TryDetach(frame, page)) continue;
            evicted = page;
            return frame;
        }

        return null;
    }

    /// <summary>
    /// Under the lock: takes an unpinned frame off its page. Detach first, then check pins; a hit pins
    /// first, then checks the page; so either we see its pin or it sees the detached page.
    /// </summary>
    private bool TryDetach(Frame frame, long page)
    {
        _table.TryRemove(new KeyValuePair<long, Frame>(page, frame));
        Interlocked.Exchange(ref frame.Page, Frame.Detached);
        if (Volatile.Read(ref frame.Pins) == 0) return true;
        // A hit pinned it between our checks: give it back.
        Volatile.Write(ref frame.Page, page);
        _table[page] = frame;
        return false;
    }

    /// <summary>
    /// Drops the cached copies of pages [first, last] so the next access reads them from remote memory
    /// (what other processes flushed). Changed pages are written back first; pinned pages stay.
    /// </summary>
    public async Task InvalidateAsync(long first, long last, CancellationToken cancellationToken = default)
    {
        // Counted as a write: what other holders flushed must not be read from a read sent ahead before.
        BeginRemoteWrite();
        try
        {
            await FlushAsync(first, last, cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                foreach (var frame in _frames)
                {
                    long page = frame.Page;
                    if (page < first || page > last || frame.Dirty || frame.Loading is not null || Volatile.Read(ref frame.Pins) != 0) continue;
                    if (TryDetach(frame, page)) Volatile.Write(ref frame.Page, Frame.Free);
                }
            }
        }
        finally
        {
            EndRemoteWrite();
        }
    }

    private void NoteMiss(long page)
    {
        long last = Interlocked.Exchange(ref _lastMiss, page);
        if (page != last + 1)
        {
            _sequentialMisses = 0;
            return;
        }

        if (++_sequentialMisses >= 2)
            Prefetch(page + 1, Math.Min(page + _readAhead, LastPage));
    }

    private long LastPage => (_backing.Length - 1) >> PageShift;

    /// <summary>Writes every dirty page back. Pages written during the flush may be written again by the next one.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => FlushAsync(0, long.MaxValue, cancellationToken);

    private async Task FlushAsync(long first, long last, CancellationToken cancellationToken)
    {
        foreach (var frame in _frames)
        {
            if (!frame.Dirty) continue;
            long page;
            lock (_lock)
            {
                page = frame.Page;
                if (page < first || page > last || frame.Loading is not null || !frame.Dirty || !_table.TryGetValue(page, out var mapped) || mapped != frame) continue;
                Interlocked.Increment(ref frame.Pins);
            }

            BeginRemoteWrite();
            try
            {
                frame.Dirty = false;
                await _backing.WriteNativeAsync(page << PageShift, Address(frame), PageLength(page), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                frame.Dirty = true;
                throw;
            }
            finally
            {
                EndRemoteWrite();
                Release(frame);
            }
        }
    }

    public unsafe void Dispose()
    {
        Interlocked.Exchange(ref _registration, null)?.Dispose();
        var memory = Interlocked.Exchange(ref _memory, 0);
        if (memory != 0) NativeMemory.AlignedFree((void*)memory);
    }
}
