using RemoteMem.Fabric.Internal.Native;

namespace RemoteMem.Fabric.Internal;

/// <summary>
/// Which providers with RemoteMem's needs (RDM endpoint, one-sided RMA) exist here: the shim returns only the
/// head of fi_getinfo's list, so this asks for each name libfabric commonly ships. Only the probe's failure
/// path uses it (a few ms per name).
/// </summary>
internal static class ProviderCatalog
{
    public static readonly string[] KnownProviders =
    [
        "tcp;ofi_rxm", "verbs;ofi_rxm", "shm", "efa", "cxi", "opx", "psm3", "psm2", "ucx", "sm2", "tcp", "verbs", "sockets", "udp;ofi_rxd",
    ];

    public static IReadOnlyList<string> Available(string except)
    {
        var found = new List<string>();
        foreach (var name in KnownProviders)
        {
            if (string.Equals(name, except, StringComparison.OrdinalIgnoreCase)) continue;
            if (RmRdma.GetInfo(name, null, null, 0, out var info) == 0) found.Add(name);
            info.Dispose();
        }

        return found;
    }
}
