namespace RemoteMem.Wire.Messages;

/// <summary>
/// How a donor's pool is reached one-sided through libfabric: the provider it opened (e.g.
/// "tcp;ofi_rxm", "shm", "verbs;ofi_rxm"), its endpoint name for the client's address vector, and the
/// key and base address of its pool registration. Byte <c>o</c> of a segment at pool offset <c>p</c> is
/// at remote address <c>Base + p + o</c> under <c>Key</c>. Donors without a fabric send none; clients
/// then use the managed TCP data path for them.
/// </summary>
public sealed record FabricAddress(string Provider, byte[] Name, ulong Key, ulong Base)
{
    /// <summary>Most bytes of an endpoint name accepted (libfabric names are tens of bytes).</summary>
    public const int MaxNameLength = 1024;

    /// <summary>Writes an optional address: an empty provider string stands for none.</summary>
    public static void Write(WireWriter w, FabricAddress? address)
    {
        w.WriteString(address?.Provider ?? "");
        if (address is null) return;
        w.WriteUInt16((ushort)address.Name.Length);
        w.WriteBytes(address.Name);
        w.WriteUInt64(address.Key);
        w.WriteUInt64(address.Base);
    }

    public static FabricAddress? Read(ref WireReader r)
    {
        var provider = r.ReadString();
        if (provider.Length == 0) return null;
        int length = r.ReadUInt16();
        if (length == 0 || length > MaxNameLength)
            throw new WireException(ErrorCode.MalformedFrame, $"Malformed payload: fabric endpoint name of {length} bytes.");
        var name = r.ReadBytes(length).ToArray();
        return new FabricAddress(provider, name, r.ReadUInt64(), r.ReadUInt64());
    }

    // Looked up per one-sided operation (the client's peer table): the same instance, or the cheap fields, decide first.
    public bool Equals(FabricAddress? other) =>
        ReferenceEquals(this, other) ||
        (other is not null && Key == other.Key && Base == other.Base && Provider == other.Provider && Name.AsSpan().SequenceEqual(other.Name));

    public override int GetHashCode() => HashCode.Combine(Key, Base, Name.Length);
}
