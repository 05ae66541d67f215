namespace RemoteMem.Client.Arrays.Internal;

/// <summary>
/// One page-sized slot of the cache. <see cref="Page"/> and the table change only under the cache's
/// lock; hits read them without it, after pinning (see <see cref="PageCache"/> for the protocol).
/// </summary>
internal sealed class Frame(int index)
{
    public const long Free = -1, Detached = -2;

    public int Index { get; } = index;

    /// <summary>The page this frame holds, <see cref="Free"/>, or <see cref="Detached"/> while being evicted.</summary>
    public long Page = Free;

    /// <summary>Users that hold the frame; a pinned frame is never evicted.</summary>
    public int Pins;

    /// <summary>CLOCK's reference bit: set by every access, cleared by the passing hand.</summary>
    public int Referenced;

    /// <summary>Written since it was loaded or last written back.</summary>
    public volatile bool Dirty;

    /// <summary>Non-null while the page is being (written back and) loaded; hits wait for it.</summary>
    public volatile Task? Loading;

    /// <summary>The load a whole-page overwrite completes once the page is written (see PageCache.AcquireForOverwriteAsync).</summary>
    public TaskCompletionSource? PendingLoad;
}
