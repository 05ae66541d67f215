namespace RemoteMem.Client.KeyValue.Internal;

/// <summary>
/// One generation of the record log: a remote byte array written at <see cref="Tail"/> and read anywhere
/// below it. Readers register, so compaction can wait for them before it releases the generation.
/// </summary>
internal sealed class KvLog(RemoteArray<byte> array)
{
    private int _readers;

    public RemoteArray<byte> Array { get; } = array;

    /// <summary>Bytes appended so far (guarded by the store's writer lock).</summary>
    public long Tail { get; set; }

    public void Enter() => Interlocked.Increment(ref _readers);

    public void Exit() => Interlocked.Decrement(ref _readers);

    public async Task RetireAsync()
    {
        while (Volatile.Read(ref _readers) != 0) await Task.Delay(1).ConfigureAwait(false);
        await Array.DisposeAsync().ConfigureAwait(false);
    }
}
