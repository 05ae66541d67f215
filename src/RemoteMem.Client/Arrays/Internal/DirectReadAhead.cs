using System.Runtime.CompilerServices;
using RemoteMem.Transport;

namespace RemoteMem.Client.Arrays.Internal;

/// <summary>
/// Read-ahead for direct reads (<see cref="RemoteArrayOptions.DirectTransferBytes"/>) that follow one
/// another, as in a scan in large blocks. A direct read that continues the previous one also sends the
/// read of the next block of the same size, before it waits for its own bytes; when the caller asks for
/// that block it claims the read in flight, whose bytes (waiting in the socket) go straight into its
/// buffer. The donors then stream as they do with many reads in flight, and no copy is added (a
/// read-ahead into the cache would add one, which on a busy node costs as much as the network does).
/// <para>
/// A read sent ahead is used only for exactly the range it covers, and only if no write to remote
/// memory was in flight when it was sent nor started or ended since (<see cref="PageCache.WriteEpoch"/>),
/// so it never yields older bytes than a plain read would. This array's own direct writes, flushes and
/// refreshes abandon it (<see cref="Cancel"/>). One that is not used (the next read is elsewhere) or
/// that the transport dropped (the caller took too long to ask) was wasted work: later reads back off
/// before reading ahead again.
/// </para>
/// </summary>
internal sealed class DirectReadAhead(RemoteAllocation allocation, PageCache cache) : IDisposable
{
    // Requests one block may take (two stripes on two donors, say); a block needing more is not read ahead.
    private const int MaxParts = 8;
    private const int MaxBackoff = 64;

    private Pending? _pending;     // the read in flight ahead of the caller, if any
    private Pending? _spare;       // a finished one, reused: a scan allocates nothing per block
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

    /// <summary>True while a read is in flight ahead of the caller.</summary>
    public bool HasPending => Volatile.Read(ref _pending) is not null;

    /// <summary>Reads [<paramref name="offset"/>, +<paramref name="length"/>) into pinned memory at <paramref name="local"/>, straight from the donors.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReadAsync(long offset, nint local, int length, CancellationToken cancellationToken)
    {
        var ahead = Interlocked.Exchange(ref _pending, null);
        if (ahead is not null && (ahead.Offset != offset || ahead.Length != length || ahead.Epoch != cache.WriteEpoch))
        {
            // Not the block that was read ahead (several threads reading, a jump, or a write since): the
            // donor moved it for nothing, so back off as after a drop.
            Abandon(ahead);
            ahead = null;
            BackOff();
        }

        bool continues = Interlocked.Exchange(ref _nextOffset, offset + length) == offset;
        if (ahead is null)
        {
            // This block's request goes out before the next one's: where both use one connection, the
            // answers then come in the order the caller claims them.
            var read = allocation.ReadNativeAsync(offset, local, length, cancellationToken);
            if (continues) Start(offset + length, length);
            await read.ConfigureAwait(false);
            return;
        }

        // Claimed before the next block is sent ahead, so the receive thread starts on this one meanwhile
        // (Start never throws: the claimed parts are always awaited, so nothing writes into the caller's
        // memory after this returns). Every part is claimed before any is awaited: their answers may
        // arrive in any order.
        for (int i = 0; i < ahead.Count; i++) ahead.Completions[i] = ahead.Parts[i].CompleteAsync(local);
        if (continues) Start(offset + length, length);
        if (await CompletedAsync(ahead).ConfigureAwait(false)) return;
        await allocation.ReadNativeAsync(offset, local, length, cancellationToken).ConfigureAwait(false);
    }

    private void Start(long offset, int length)
    {
        if (_skip > 0)
        {
            _skip--;
            return;
        }

        if (length > allocation.Length - offset) return;
        // The epoch before the in-flight check: a write that starts after this moves the epoch.
        long epoch = cache.WriteEpoch;
        if (cache.RemoteWritesInFlight) return;
        // The next read goes direct only if none of its pages is cached; otherwise it would never claim this.
        if (!cache.TryDirectSpan(offset, length, out long spanOffset, out int spanLength) || spanOffset != offset || spanLength != length) return;
        var ahead = Interlocked.Exchange(ref _spare, null) ?? new Pending();
        ahead.Count = allocation.BeginReadAhead(offset, length, ahead.Parts);
        if (ahead.Count == 0)
        {
            Volatile.Write(ref _spare, ahead);
            return;
        }

        ahead.Offset = offset;
        ahead.Length = length;
        ahead.Epoch = epoch;
        if (Interlocked.Exchange(ref _pending, ahead) is { } replaced) Abandon(replaced);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> CompletedAsync(Pending ahead)
    {
        bool all = true;
        for (int i = 0; i < ahead.Count; i++) all &= await ahead.Completions[i].ConfigureAwait(false);
        Recycle(ahead);
        if (all)
        {
            Interlocked.Increment(ref _claimed);
            _backoff = 0;
        }
        else
        {
            Interlocked.Increment(ref _dropped);
            BackOff();
        }

        return all;
    }

    // After a wasted read-ahead the next 1, 2, 4, ... 64 chances to read ahead are skipped; a claim resets it.
    private void BackOff() => _skip = _backoff = Math.Clamp(2 * _backoff, 1, MaxBackoff);

    private void Abandon(Pending ahead)
    {
        for (int i = 0; i < ahead.Count; i++) ahead.Parts[i].Abandon();
        Recycle(ahead);
    }

    private void Recycle(Pending ahead)
    {
        Array.Clear(ahead.Parts);
        Array.Clear(ahead.Completions);
        ahead.Count = 0;
        Volatile.Write(ref _spare, ahead);
    }

    /// <summary>
    /// Abandons the read in flight, if any: before this array writes to remote memory or refreshes (its
    /// bytes would be refused anyway, and its held answer would delay the write's on a shared connection).
    /// </summary>
    public void Cancel()
    {
        if (Volatile.Read(ref _pending) is not null && Interlocked.Exchange(ref _pending, null) is { } ahead) Abandon(ahead);
    }

    public void Dispose() => Cancel();
}
