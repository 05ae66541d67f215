namespace RemoteMem.Fabric.Internal;

/// <summary>
/// A remote endpoint known to a <see cref="FabricEndpoint"/> (from <see cref="FabricEndpoint.AddPeer"/>).
/// Stable across <see cref="FabricEndpoint.Rebuild()"/>: the endpoint re-inserts the name into each new
/// address vector and resolves the peer's fi_addr per data path at post time.
/// </summary>
internal sealed class FabricPeer
{
    internal FabricPeer(FabricEndpoint owner, int id, byte[] name)
    {
        Owner = owner;
        Id = id;
        Name = name;
    }

    /// <summary>Small integer, unique within its endpoint; indexes the data path's address table.</summary>
    public int Id { get; }

    /// <summary>The peer's endpoint name as exchanged out of band (a copy; do not modify).</summary>
    public ReadOnlyMemory<byte> Name { get; }

    public bool IsRemoved { get; internal set; }

    internal FabricEndpoint Owner { get; }
}
