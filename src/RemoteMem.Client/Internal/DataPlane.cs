using RemoteMem.Fabric;
using RemoteMem.Transport;
using RemoteMem.Wire;

namespace RemoteMem.Client.Internal;

/// <summary>Opens the data transport the client's options ask for.</summary>
internal static class DataPlane
{
    public static ISegmentTransport Open(RemoteMemClientOptions options, ClusterSecret secret)
    {
        var tcp = new TcpSegmentTransport(secret, options.Transport(RequestTimeout(options)), options.Logger);
        switch (options.DataTransport)
        {
            case "tcp":
                return tcp;
            case "fabric":
                // Asked for explicitly: not being able to run is an error with the reason, not a silent fallback.
                var probe = FabricSupport.Probe(options.FabricProvider);
                if (!probe.IsSupported)
                {
                    _ = tcp.DisposeAsync();
                    throw new InvalidOperationException($"The fabric transport ({options.FabricProvider}) cannot run here: {probe.Message}");
                }

                return FabricSegmentTransport.Open(new FabricTransportOptions
                {
                    Provider = options.FabricProvider,
                    LocalAddress = options.FabricLocalAddress ?? LoopbackOf(options.Manager),
                    OperationTimeout = RequestTimeout(options),
                }, tcp, options.Logger);
            default:
                _ = tcp.DisposeAsync();
                throw new ArgumentException($"DataTransport '{options.DataTransport}' is not one of: tcp, fabric.", nameof(options));
        }
    }

    /// <summary>
    /// One request's time limit: a third of the data timeout (at least a second). A transfer keeps
    /// retrying until the whole data timeout, so a request stuck on a hung donor ends early enough for
    /// the retry to reach another copy once the manager has declared that donor dead.
    /// </summary>
    private static TimeSpan RequestTimeout(RemoteMemClientOptions options) =>
        TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, options.DataTimeout.Ticks / 3));

    /// <summary>A cluster on loopback (tests, a single node) must bind the fabric to loopback too.</summary>
    private static string? LoopbackOf(string manager)
    {
        var (host, _) = Endpoints.Split(manager);
        return host is "127.0.0.1" or "localhost" ? "127.0.0.1" : null;
    }
}
