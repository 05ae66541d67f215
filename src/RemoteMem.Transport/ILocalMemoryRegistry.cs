namespace RemoteMem.Transport;

/// <summary>
/// A transport that wants long-lived local buffers registered once (RDMA registration), so that data
/// moves straight between them and the remote side. The client's page cache registers its frames here.
/// </summary>
public interface ILocalMemoryRegistry
{
    /// <summary>Registers [<paramref name="address"/>, +<paramref name="length"/>); disposing the result unregisters it.</summary>
    IDisposable RegisterLocal(nint address, long length);
}
