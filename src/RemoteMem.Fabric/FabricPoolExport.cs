using Microsoft.Extensions.Logging;
using RemoteMem.Fabric.Internal;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Fabric;

/// <summary>
/// A donor's pool opened for one-sided access: one endpoint, the whole pool registered once for remote
/// reads and writes, and a progress thread that serves peers (providers such as tcp;ofi_rxm and shm
/// make progress only when the target reads its completion queue). <see cref="Address"/> is what the
/// donor announces to the manager, which hands it to clients in lease grants.
/// </summary>
public sealed class FabricPoolExport : IDisposable
{
    private readonly FabricEndpoint _endpoint;
    private readonly FabricRegistration _registration;

    private FabricPoolExport(FabricEndpoint endpoint, FabricRegistration registration)
    {
        _endpoint = endpoint;
        _registration = registration;
        Address = new FabricAddress(endpoint.Provider, endpoint.GetName(), registration.Key, registration.RemoteBase);
    }

    public FabricAddress Address { get; }

    /// <summary>Opens the provider and registers [<paramref name="pool"/>, +<paramref name="length"/>). Throws <see cref="FabricException"/> with the reason when it cannot.</summary>
    public static FabricPoolExport Open(FabricTransportOptions options, nint pool, long length, ILogger? logger = null)
    {
        var endpoint = FabricEndpoint.Open(options.ToEndpointOptions(logger));
        try
        {
            return new FabricPoolExport(endpoint, endpoint.RegisterMemory(pool, length, remoteAccess: true));
        }
        catch
        {
            endpoint.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _registration.Dispose();
        _endpoint.Dispose();
    }
}
