using System.Buffers;
using System.Runtime.CompilerServices;
using RemoteMem.Client.KeyValue.Internal;
using RemoteMem.Wire;

namespace RemoteMem.Client;

/// <summary>
/// A key-value store whose records live in remote memory: an append-only log of (key, value,
/// checksum) records in a <see cref="RemoteArray{T}"/> (so reads and writes go through its page cache)
/// and an index in local memory from a 64-bit key hash to log addresses, verified against the full key.
/// Overwritten and deleted records are garbage; when garbage passes
/// <see cref="RemoteKvOptions.CompactionThreshold"/> the live records are copied to a fresh log and the
/// old one is released. Writers are serialized (and wait for a compaction); readers never wait for
/// writers or compactions: they read the log generation they started on.
/// A record that fails its checksum throws <see cref="DataCorruptedException"/>; wrong data is never returned.
/// Changes are cached like an array's: <see cref="FlushAsync"/> writes them to remote memory.
/// </summary>
public sealed class RemoteKv : IAsyncDisposable
{
    private readonly RemoteMemClient _client;
    private readonly RemoteKvOptions _options;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly object _indexLock = new();
    private Dictionary<ulong, long> _index = [];
    private Dictionary<ulong, List<long>> _collisions = [];
    private KvLog _log;
    private long _garbage;
    private int _count;
    private int _disposed;

    private RemoteKv(RemoteMemClient client, RemoteKvOptions options, KvLog log)
    {
        _client = client;
        _options = options;
        _log = log;
    }

    internal static async Task<RemoteKv> CreateAsync(RemoteMemClient client, RemoteKvOptions options, CancellationToken cancellationToken)
    {
        options.Validate();
        var array = await client.CreateArrayAsync<byte>(options.Capacity, options.ArrayOptions(), cancellationToken).ConfigureAwait(false);
        return new RemoteKv(client, options, new KvLog(array));
    }

    /// <summary>Number of keys.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Log bytes in use (live records and garbage) out of <see cref="RemoteKvOptions.Capacity"/>.</summary>
    public long UsedBytes => Volatile.Read(ref _log).Tail;

    /// <summary>Bytes of overwritten and deleted records, reclaimed by the next compaction.</summary>
    public long GarbageBytes => Interlocked.Read(ref _garbage);

    /// <summary>Compactions run so far.</summary>
    public int Compactions { get; private set; }

    // ---- writes -----------------------------------------------------------------------------

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>, replacing any earlier value.</summary>
    public async ValueTask PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        CheckKey(key.Span);
        if (value.Length > _options.MaxValueBytes)
            throw new ArgumentException($"Value of {value.Length} bytes exceeds MaxValueBytes ({_options.MaxValueBytes}).", nameof(value));
        ulong hash = Hash(key.Span);
        long size = KvRecord.Size(key.Length, value.Length);
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (_log.Tail + size > _options.Capacity || _garbage > _options.CompactionThreshold * _options.Capacity)
                await CompactLockedAsync(cancellationToken).ConfigureAwait(false);
            if (_log.Tail + size > _options.Capacity)
                throw new InsufficientCapacityException(ErrorCode.InsufficientCapacity,
                    $"The store's log is full: {_log.Tail - _garbage} live bytes of {_options.Capacity}; raise RemoteKvOptions.Capacity.");

            var log = _log;
            var (existing, existingSize) = await FindAsync(log, key, hash, cancellationToken).ConfigureAwait(false);
            long address = log.Tail;
            await AppendAsync(log, address, key, value, cancellationToken).ConfigureAwait(false);
            log.Tail = address + size;
            lock (_indexLock)
            {
                if (existing >= 0) Replace(hash, existing, address);
                else Add(hash, address);
            }

            if (existing >= 0) Interlocked.Add(ref _garbage, existingSize);
            else Interlocked.Increment(ref _count);
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>Removes <paramref name="key"/>; false when it was not there.</summary>
    public async ValueTask<bool> DeleteAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        CheckKey(key.Span);
        ulong hash = Hash(key.Span);
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            var (existing, existingSize) = await FindAsync(_log, key, hash, cancellationToken).ConfigureAwait(false);
            if (existing < 0) return false;
            lock (_indexLock) Remove(hash, existing);
            Interlocked.Add(ref _garbage, existingSize);
            Interlocked.Decrement(ref _count);
            return true;
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>Copies the live records to a fresh log and releases the old one. Runs by itself when garbage passes the threshold.</summary>
    public async Task CompactAsync(CancellationToken cancellationToken = default)
    {
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await CompactLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writer.Release();
        }
    }

    private async Task CompactLockedAsync(CancellationToken cancellationToken)
    {
        var old = _log;
        var fresh = new KvLog(await _client.CreateArrayAsync<byte>(_options.Capacity, _options.ArrayOptions(), cancellationToken).ConfigureAwait(false));
        var index = new Dictionary<ulong, long>();
        var collisions = new Dictionary<ulong, List<long>>();
        try
        {
            var buffer = new byte[KvRecord.HeaderSize + _options.MaxKeyBytes + _options.MaxValueBytes];
            foreach (var (hash, address) in Snapshot())
            {
                int length = await ReadRecordAsync(old, address, buffer, cancellationToken).ConfigureAwait(false);
                long target = fresh.Tail;
                await fresh.Array.AppendAsync(target, buffer.AsMemory(0, length), freshFromByte: target, cancellationToken).ConfigureAwait(false);
                fresh.Tail += length;
                if (index.TryAdd(hash, target)) continue;
                if (!collisions.TryGetValue(hash, out var list)) collisions[hash] = list = [];
                list.Add(target);
            }
        }
        catch
        {
            await fresh.Array.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        lock (_indexLock)
        {
            _index = index;
            _collisions = collisions;
            Volatile.Write(ref _log, fresh);
        }

        Interlocked.Exchange(ref _garbage, 0);
        Compactions++;
        await old.RetireAsync().ConfigureAwait(false);
    }

    /// <summary>Writes cached changes to remote memory.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => Volatile.Read(ref _log).Array.FlushAsync(cancellationToken);

    // ---- reads ------------------------------------------------------------------------------

    /// <summary>Appends the value of <paramref name="key"/> to <paramref name="destination"/>; false when absent.</summary>
    public async ValueTask<bool> TryGetAsync(ReadOnlyMemory<byte> key, IBufferWriter<byte> destination, CancellationToken cancellationToken = default)
    {
        CheckKey(key.Span);
        var (log, candidates) = Lookup(Hash(key.Span));
        try
        {
            foreach (var address in candidates)
            {
                var value = await ReadValueIfKeyAsync(log, address, key, cancellationToken).ConfigureAwait(false);
                if (value is null) continue;
                destination.Write(value);
                return true;
            }

            return false;
        }
        finally
        {
            log.Exit();
        }
    }

    /// <summary>Copies the value of <paramref name="key"/> into <paramref name="destination"/>; returns its length, or -1 when absent. Throws when it does not fit.</summary>
    public async ValueTask<int> TryGetAsync(ReadOnlyMemory<byte> key, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        var buffer = new ArrayBufferWriter<byte>();
        if (!await TryGetAsync(key, buffer, cancellationToken).ConfigureAwait(false)) return -1;
        if (buffer.WrittenCount > destination.Length)
            throw new ArgumentException($"The value has {buffer.WrittenCount} bytes; the destination holds {destination.Length}.", nameof(destination));
        buffer.WrittenSpan.CopyTo(destination.Span);
        return buffer.WrittenCount;
    }

    /// <summary>True when <paramref name="key"/> is stored.</summary>
    public async ValueTask<bool> ContainsKeyAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        CheckKey(key.Span);
        var (log, candidates) = Lookup(Hash(key.Span));
        try
        {
            foreach (var address in candidates)
                if (await RecordSizeIfKeyAsync(log, address, key, cancellationToken).ConfigureAwait(false) >= 0) return true;
            return false;
        }
        finally
        {
            log.Exit();
        }
    }

    /// <summary>
    /// Fetches many keys with up to <paramref name="parallelism"/> lookups in flight; the result holds
    /// each key's value, or null where the key is absent, in the order of <paramref name="keys"/>.
    /// </summary>
    public async Task<byte[]?[]> GetManyAsync(IReadOnlyList<ReadOnlyMemory<byte>> keys, int parallelism = 64, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        var results = new byte[]?[keys.Count];
        await Parallel.ForAsync(0, keys.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (i, token) =>
        {
            var buffer = new ArrayBufferWriter<byte>();
            results[i] = await TryGetAsync(keys[i], buffer, token).ConfigureAwait(false) ? buffer.WrittenSpan.ToArray() : null;
        }).ConfigureAwait(false);
        return results;
    }

    /// <summary>Every key, read from the log (a snapshot as of the call).</summary>
    public async IAsyncEnumerable<byte[]> KeysAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        KvLog log;
        List<long> addresses;
        lock (_indexLock)
        {
            log = _log;
            log.Enter();
            addresses = [.. Snapshot().Select(e => e.Address)];
        }

        try
        {
            var header = new byte[KvRecord.HeaderSize];
            foreach (var address in addresses)
            {
                await log.Array.ReadAsync(address, header, cancellationToken).ConfigureAwait(false);
                if (!KvRecord.TryReadHeader(header, out int keyLength, out _, out _)) throw Corrupt(address);
                var key = new byte[keyLength];
                await log.Array.ReadAsync(address + KvRecord.HeaderSize, key, cancellationToken).ConfigureAwait(false);
                yield return key;
            }
        }
        finally
        {
            log.Exit();
        }
    }

    // ---- blocking forms -----------------------------------------------------------------------

    /// <summary>Blocking <see cref="PutAsync"/>.</summary>
    public void Put(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value) => PutAsync(key, value).AsTask().GetAwaiter().GetResult();

    /// <summary>Blocking <see cref="TryGetAsync(ReadOnlyMemory{byte}, IBufferWriter{byte}, CancellationToken)"/>.</summary>
    public bool TryGet(ReadOnlyMemory<byte> key, IBufferWriter<byte> destination) => TryGetAsync(key, destination).AsTask().GetAwaiter().GetResult();

    /// <summary>Blocking form of <see cref="TryGetAsync(ReadOnlyMemory{byte}, Memory{byte}, CancellationToken)"/> into a caller's span: the value's length, or -1 when absent.</summary>
    public int TryGet(ReadOnlyMemory<byte> key, Span<byte> destination)
    {
        var buffer = new ArrayBufferWriter<byte>();
        if (!TryGet(key, buffer)) return -1;
        if (buffer.WrittenCount > destination.Length)
            throw new ArgumentException($"The value has {buffer.WrittenCount} bytes; the destination holds {destination.Length}.", nameof(destination));
        buffer.WrittenSpan.CopyTo(destination);
        return buffer.WrittenCount;
    }

    /// <summary>Blocking <see cref="DeleteAsync"/>.</summary>
    public bool Delete(ReadOnlyMemory<byte> key) => DeleteAsync(key).AsTask().GetAwaiter().GetResult();

    /// <summary>Blocking <see cref="ContainsKeyAsync"/>.</summary>
    public bool ContainsKey(ReadOnlyMemory<byte> key) => ContainsKeyAsync(key).AsTask().GetAwaiter().GetResult();

    // ---- internals --------------------------------------------------------------------------

    internal RemoteArray<byte> LogArray => Volatile.Read(ref _log).Array;

    private ulong Hash(ReadOnlySpan<byte> key) =>
        _options.HashBits >= 64 ? KvRecord.Hash(key) : KvRecord.Hash(key) & ((1UL << _options.HashBits) - 1);

    private void CheckKey(ReadOnlySpan<byte> key)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (key.IsEmpty || key.Length > _options.MaxKeyBytes)
            throw new ArgumentException($"A key has 1 to {_options.MaxKeyBytes} bytes (MaxKeyBytes); this one has {key.Length}.", nameof(key));
    }

    /// <summary>The current log (entered: the caller must Exit it) and the candidate addresses for a hash.</summary>
    private (KvLog Log, long[] Candidates) Lookup(ulong hash)
    {
        lock (_indexLock)
        {
            var log = _log;
            log.Enter();
            if (!_index.TryGetValue(hash, out long first)) return (log, []);
            if (!_collisions.TryGetValue(hash, out var more)) return (log, [first]);
            return (log, [first, .. more]);
        }
    }

    private IEnumerable<(ulong Hash, long Address)> Snapshot()
    {
        var all = new List<(ulong, long)>(_index.Count);
        lock (_indexLock)
        {
            foreach (var (hash, address) in _index) all.Add((hash, address));
            foreach (var (hash, list) in _collisions) all.AddRange(list.Select(a => (hash, a)));
        }

        return all;
    }

    private void Add(ulong hash, long address)
    {
        if (_index.TryAdd(hash, address)) return;
        if (!_collisions.TryGetValue(hash, out var list)) _collisions[hash] = list = [];
        list.Add(address);
    }

    private void Replace(ulong hash, long old, long address)
    {
        if (_index.TryGetValue(hash, out long first) && first == old) _index[hash] = address;
        else _collisions[hash][_collisions[hash].IndexOf(old)] = address;
    }

    private void Remove(ulong hash, long address)
    {
        _collisions.TryGetValue(hash, out var list);
        if (_index.TryGetValue(hash, out long first) && first == address)
        {
            if (list is { Count: > 0 })
            {
                _index[hash] = list[^1];
                list.RemoveAt(list.Count - 1);
            }
            else
            {
                _index.Remove(hash);
            }
        }
        else
        {
            list!.Remove(address);
        }

        if (list is { Count: 0 }) _collisions.Remove(hash);
    }

    /// <summary>The address and size of <paramref name="key"/>'s record in <paramref name="log"/>, or (-1, 0).</summary>
    private async ValueTask<(long Address, long Size)> FindAsync(KvLog log, ReadOnlyMemory<byte> key, ulong hash, CancellationToken cancellationToken)
    {
        long[] candidates;
        lock (_indexLock)
        {
            if (!_index.TryGetValue(hash, out long first)) return (-1, 0);
            candidates = _collisions.TryGetValue(hash, out var more) ? [first, .. more] : [first];
        }

        foreach (var address in candidates)
        {
            long size = await RecordSizeIfKeyAsync(log, address, key, cancellationToken).ConfigureAwait(false);
            if (size >= 0) return (address, size);
        }

        return (-1, 0);
    }

    private async ValueTask AppendAsync(KvLog log, long address, ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        var head = new byte[KvRecord.HeaderSize + key.Length];
        KvRecord.WriteHeader(head, key.Span, value.Span);
        key.CopyTo(head.AsMemory(KvRecord.HeaderSize));
        // Everything from the tail on was never written: its pages need not be fetched first.
        await log.Array.AppendAsync(address, head, freshFromByte: address, cancellationToken).ConfigureAwait(false);
        if (!value.IsEmpty) await log.Array.AppendAsync(address + head.Length, value, freshFromByte: address, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The size of the record at <paramref name="address"/> if its key is <paramref name="key"/>, else -1.</summary>
    private static async ValueTask<long> RecordSizeIfKeyAsync(KvLog log, long address, ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        var head = new byte[KvRecord.HeaderSize + key.Length];
        await log.Array.ReadAsync(address, head.AsMemory(0, KvRecord.HeaderSize), cancellationToken).ConfigureAwait(false);
        if (!KvRecord.TryReadHeader(head, out int keyLength, out int valueLength, out _)) throw Corrupt(address);
        if (keyLength != key.Length) return -1;
        await log.Array.ReadAsync(address + KvRecord.HeaderSize, head.AsMemory(KvRecord.HeaderSize), cancellationToken).ConfigureAwait(false);
        return head.AsSpan(KvRecord.HeaderSize).SequenceEqual(key.Span) ? KvRecord.Size(keyLength, valueLength) : -1;
    }

    /// <summary>The value at <paramref name="address"/> if its key is <paramref name="key"/> (checksum verified), else null.</summary>
    private async ValueTask<byte[]?> ReadValueIfKeyAsync(KvLog log, long address, ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        var header = new byte[KvRecord.HeaderSize];
        await log.Array.ReadAsync(address, header, cancellationToken).ConfigureAwait(false);
        if (!KvRecord.TryReadHeader(header, out int keyLength, out int valueLength, out uint checksum)
            || address + KvRecord.Size(keyLength, valueLength) > log.Array.Length)
            throw Corrupt(address);
        if (keyLength != key.Length) return null;
        var body = new byte[keyLength + valueLength];
        await log.Array.ReadAsync(address + KvRecord.HeaderSize, body, cancellationToken).ConfigureAwait(false);
        if (!body.AsSpan(0, keyLength).SequenceEqual(key.Span)) return null;
        if (KvRecord.Checksum(header, body.AsSpan(0, keyLength), body.AsSpan(keyLength)) != checksum) throw Corrupt(address);
        return body[keyLength..];
    }

    /// <summary>Reads a whole record (verified) into <paramref name="buffer"/>; returns its length.</summary>
    private static async ValueTask<int> ReadRecordAsync(KvLog log, long address, byte[] buffer, CancellationToken cancellationToken)
    {
        await log.Array.ReadAsync(address, buffer.AsMemory(0, KvRecord.HeaderSize), cancellationToken).ConfigureAwait(false);
        if (!KvRecord.TryReadHeader(buffer, out int keyLength, out int valueLength, out uint checksum)
            || KvRecord.Size(keyLength, valueLength) > buffer.Length)
            throw Corrupt(address);
        int length = (int)KvRecord.Size(keyLength, valueLength);
        await log.Array.ReadAsync(address + KvRecord.HeaderSize, buffer.AsMemory(KvRecord.HeaderSize, length - KvRecord.HeaderSize), cancellationToken).ConfigureAwait(false);
        var body = buffer.AsSpan(KvRecord.HeaderSize, length - KvRecord.HeaderSize);
        if (KvRecord.Checksum(buffer, body[..keyLength], body[keyLength..]) != checksum) throw Corrupt(address);
        return length;
    }

    private static DataCorruptedException Corrupt(long address) =>
        new($"The key-value record at log offset {address} failed its checksum; it is not returned.");

    /// <summary>Releases the log's lease; the data is gone.</summary>
    public async ValueTask DisposeAsync()
    {
        await _writer.WaitAsync().ConfigureAwait(false);
        try
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            await _log.RetireAsync().ConfigureAwait(false);
        }
        finally
        {
            _writer.Release();
        }
    }
}
