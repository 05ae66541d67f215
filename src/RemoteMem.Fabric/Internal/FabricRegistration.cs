using RemoteMem.Fabric.Internal.Native;

namespace RemoteMem.Fabric.Internal;

/// <summary>
/// A memory region registered with an endpoint's domain (fi_mr_reg, honouring the granted mr_mode).
/// The memory is not owned: it must stay allocated until this registration is disposed (disposing the
/// endpoint disposes its registrations).
/// <para>
/// A donor publishes <see cref="Key"/> and <see cref="RemoteBase"/> with the endpoint's name; a peer
/// addresses byte <c>offset</c> of the region as <c>RemoteBase + offset</c> under <c>Key</c>.
/// <see cref="Descriptor"/> goes with local buffers of reads and writes (required under FI_MR_LOCAL,
/// <c>0</c> where the provider has none).
/// </para>
/// </summary>
internal sealed class FabricRegistration : IDisposable
{
    private readonly MrHandle _mr;
    private readonly FabricEndpoint _owner;

    internal FabricRegistration(FabricEndpoint owner, MrHandle mr, nint address, long length, bool remoteAccess, ulong key, nint descriptor, ulong remoteBase)
    {
        _owner = owner;
        _mr = mr;
        Address = address;
        Length = length;
        RemoteAccess = remoteAccess;
        Key = key;
        Descriptor = descriptor;
        RemoteBase = remoteBase;
    }

    public nint Address { get; }

    public long Length { get; }

    /// <summary>Peers may read and write the region (else it serves only as a local buffer).</summary>
    public bool RemoteAccess { get; }

    /// <summary>fi_mr_key: what a peer passes with every operation on this region.</summary>
    public ulong Key { get; }

    /// <summary>fi_mr_desc: what this side passes with a local buffer inside the region (may be 0).</summary>
    public nint Descriptor { get; }

    /// <summary>What a peer adds its byte offset to: the region's address under FI_MR_VIRT_ADDR (shm), else 0 (tcp).</summary>
    public ulong RemoteBase { get; }

    public bool IsDisposed => _mr.IsClosed;

    /// <summary>The remote address of byte <paramref name="offset"/>, for a peer that was given this registration.</summary>
    public ulong RemoteAddressOf(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Length);
        return RemoteBase + (ulong)offset;
    }

    /// <summary>Closes the MR (deferred while a call uses it). Peers' operations on it fail afterwards.</summary>
    public void Dispose()
    {
        _mr.Dispose();
        _owner.Forget(this);
    }
}
