using System.Runtime.CompilerServices;
using RemoteMem.Transport;

namespace RemoteMem.Client.Arrays.Internal;

/// <summary>
/// Read-ahead for direct reads (<see cref="RemoteArrayOptions.DirectTransferBytes"/>) that follow one
/// another, as in a scan in large blocks. A direct read that continues the previous one also sends the
/// reads of the next blocks of the same size (<see cref="RemoteArrayOptions.DirectReadAheadBytes"/>),
/// before it waits for its own bytes; when the caller asks for the next block it claims the read in
/// flight, whose bytes (waiting in the socket) go straight into its buffer, and sends one more. The
/// donors then stream as they do with many reads in flight, and no copy is added (a read-ahead into the
/// cache would add one, which on a busy node costs as much as the network does).
/// <para>
/// Why several blocks: with one, a donor that finished the next block waits for the caller's next
/// call before it has work again, and on a busy node either side often falls behind for a moment. On 2
/// cores, 1 MiB blocks over two donors read at 0.80x a raw socket stream with one block ahead, 0.89x
/// with two and about 1.0x with three to six (the same run, alternating).
/// </para>
/// <para>
/// A read sent ahead is used only for exactly the range it covers, and only if no write to remote
/// memory was in flight when it was sent nor started or ended since (<see cref="PageCache.WriteEpoch"/>),
/// so it never yields older bytes than a plain read would. This array's own direct writes, flushes and
/// refreshes abandon them (<see cref="Cancel"/>). One that is not used (the next read is elsewhere) or
/// that the transport dropped (the caller took too long to ask) was wasted work: later reads back off
/// before reading ahead again.
/// </para>
/// </summary>
internal sealed class DirectReadAhead(RemoteAllocation allocation, PageCache cache, int readAheadBytes) : IDisposable
{
    // Requests one block may take (two stripes on two donors, say); a block needing more is not read ahead.
    private const int MaxParts = 8;
    private const int MaxBlocks = 16;
    private const int MaxBackoff = 64;

    private readonly object _gate = new();
    private readonly Queue<Pending> _ahead = new(MaxBlocks);  // in flight ahead of the caller: consecutive blocks, oldest first
    private readonly Stack<Pending> _spares = new(MaxBlocks); // finished ones, reused: a scan allocates nothing per block
    private long _nextOffset = -1; // where the last direct read ended: a read starting there continues a scan
    private int _backoff, _skip;
    private long _claimed, _dropped;

    private sealed class Pending
    {
        public readonly ReadAhead[] Parts = new ReadAhead[MaxParts];
        public readonly ValueTask<bool>[] Completions = new ValueTask<bool>[MaxParts];
        public long Offset, Epoch;
        public int Length, Count;
    }

    /// <summary>Read-aheads whose bytes went to the caller.</summary>
    public long Claimed => Interlocked.Read(ref _claimed);

    /// <summary>Read-aheads claimed too late (dropped by the transport) or failed; their blocks were read again.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Blocks in flight ahead of the caller.</summary>
    public int PendingBlocks
    {
        get
        {
            lock (_gate) return _ahead.Count;
        }
    }

    /// <summary>Reads [<paramref name="offset"/>, +<paramref name="length"/>) into pinned memory at <paramref name="local"/>, straight from the donors.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReadAsync(long offset, nint local, int length, CancellationToken cancellationToken)
    {
        Pending? ahead = null;
        ValueTask read = default;
        // One lock per block (microseconds of network each): a scan is one caller, so it is uncontended,
        // and it keeps the reads in flight consecutive when several threads read.
        lock (_gate)
        {
            if (_ahead.TryPeek(out var first))
            {
                if (first.Offset == offset && first.Length == length && first.Epoch == cache.WriteEpoch)
                {
                    ahead = _ahead.Dequeue();
                }
                else
                {
                    // Not the block that was read ahead (several threads reading, a jump, or a write since):
                    // the donors moved them for nothing, so back off as after a drop.
                    AbandonAll();
                    BackOff();
                }
            }

            // This block's request goes out before the next ones': where they share a connection, the
            // answers then come in the order the caller claims them.
            if (ahead is null) read = allocation.ReadNativeAsync(offset, local, length, cancellationToken);
            bool continues = _nextOffset == offset;
            _nextOffset = offset + length;
            if (continues && readAheadBytes > 0) FillAhead(offset + length, length);
        }

        if (ahead is null)
        {
            await read.ConfigureAwait(false);
            return;
        }

        // Claimed after the next block was sent ahead and outside the lock: a claim may move the bytes
        // itself (when they have arrived), and the donors work on the next block meanwhile. Every part is
        // claimed before any is awaited: their answers may arrive in any order.
        for (int i = 0; i < ahead.Count; i++) ahead.Completions[i] = ahead.Parts[i].CompleteAsync(local);
        if (await CompletedAsync(ahead).ConfigureAwait(false)) return;
        await allocation.ReadNativeAsync(offset, local, length, cancellationToken).ConfigureAwait(false);
    }

    // Under _gate: sends the blocks after `next` (or after the last one in flight) until enough are in flight.
    private void FillAhead(long next, int length)
    {
        int blocks = Math.Clamp(readAheadBytes / length, 1, MaxBlocks);
        foreach (var pending in _ahead) next = pending.Offset + pending.Length;
        while (_ahead.Count < blocks && TryStart(next, length)) next += length;
    }

    private bool TryStart(long offset, int length)
    {
        if (_skip > 0)
        {
            _skip--;
            return false;
        }

        if (length > allocation.Length - offset) return false;
        // The epoch before the in-flight check: a write that starts after this moves the epoch.
        long epoch = cache.WriteEpoch;
        if (cache.RemoteWritesInFlight) return false;
        // The block goes direct only if none of its pages is cached; otherwise its read would never claim this.
        if (!cache.TryDirectSpan(offset, length, out long spanOffset, out int spanLength) || spanOffset != offset || spanLength != length) return false;
        var ahead = _spares.TryPop(out var spare) ? spare : new Pending();
        ahead.Count = allocation.BeginReadAhead(offset, length, ahead.Parts);
        if (ahead.Count == 0)
        {
            _spares.Push(ahead);
            return false;
        }

        ahead.Offset = offset;
        ahead.Length = length;
        ahead.Epoch = epoch;
        _ahead.Enqueue(ahead);
        return true;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> CompletedAsync(Pending ahead)
    {
        bool all = true;
        for (int i = 0; i < ahead.Count; i++) all &= await ahead.Completions[i].ConfigureAwait(false);
        lock (_gate)
        {
            Recycle(ahead);
            if (all)
            {
                _claimed++;
                _backoff = 0;
            }
            else
            {
                _dropped++;
                BackOff();
            }
        }

        return all;
    }

    // After a wasted read-ahead the next 1, 2, 4, ... 64 chances to read ahead are skipped; a claim resets it.
    private void BackOff() => _skip = _backoff = Math.Clamp(2 * _backoff, 1, MaxBackoff);

    private void AbandonAll()
    {
        while (_ahead.TryDequeue(out var ahead))
        {
            for (int i = 0; i < ahead.Count; i++) ahead.Parts[i].Abandon();
            Recycle(ahead);
        }
    }

    private void Recycle(Pending ahead)
    {
        Array.Clear(ahead.Parts);
        Array.Clear(ahead.Completions);
        ahead.Count = 0;
        _spares.Push(ahead);
    }

    /// <summary>
    /// Abandons the reads in flight, if any: before this array writes to remote memory or refreshes (their
    /// bytes would be refused anyway, and their held answers would delay the write's on a shared connection).
    /// </summary>
    public void Cancel()
    {
        lock (_gate) AbandonAll();
    }

    public void Dispose() => Cancel();
}
