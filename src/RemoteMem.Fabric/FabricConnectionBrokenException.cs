namespace RemoteMem.Fabric;

/// <summary>
/// The path to a peer is broken and will not heal by itself: reopen. With tcp;ofi_rxm a remote access error
/// (bad key, out of range) makes the target drop the connection, and every later operation to it fails with
/// err 107 ("Broken pipe") even after the address is re-inserted; a new CQ, AV and endpoint recover. Also
/// thrown for operations still in flight on an endpoint that is being rebuilt. Retrying the same operation
/// after the rebuild is safe for reads and for writes (one-sided writes are idempotent).
/// </summary>
public sealed class FabricConnectionBrokenException : FabricException
{
    public FabricConnectionBrokenException(string message, int status = 0, int error = 0, int providerError = 0, Exception? inner = null)
        : base(message, status, error, providerError, inner)
    {
    }
}
