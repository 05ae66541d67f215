namespace RemoteMem.Transport.Internal;

/// <summary>
/// Whether a client connection has closed, and why: closed once (the first reason wins), and every
/// later call fails with that reason.
/// </summary>
internal sealed class Closure(string endpoint)
{
    private Exception? _reason;
    private int _closed;

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>The reason later calls fail with.</summary>
    public Exception Error => _reason ?? new ConnectionFailedException(endpoint, "the connection is closed");

    /// <summary>True for the first caller only, who then tears the connection down.</summary>
    public bool TryClose(Exception reason)
    {
        if (Interlocked.CompareExchange(ref _reason, reason, null) is not null) return false;
        Volatile.Write(ref _closed, 1);
        return true;
    }

    public void ThrowIfClosed()
    {
        if (IsClosed) throw Error;
    }
}
