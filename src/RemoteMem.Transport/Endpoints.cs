using System.Net;
using System.Net.Sockets;

namespace RemoteMem.Transport;

/// <summary>Parses and resolves "host:port" endpoints, the form used in options and on the wire.</summary>
public static class Endpoints
{
    public static (string Host, int Port) Split(string endpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        int colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || colon == endpoint.Length - 1 || !int.TryParse(endpoint.AsSpan(colon + 1), out int port) || port is < 0 or > 65535)
            throw new FormatException($"'{endpoint}' is not an endpoint of the form host:port (for example 127.0.0.1:7600).");
        var host = endpoint[..colon].Trim('[', ']');
        return (host, port);
    }

    public static async ValueTask<IPEndPoint> ResolveAsync(string endpoint, CancellationToken cancellationToken)
    {
        var (host, port) = Split(endpoint);
        if (IPAddress.TryParse(host, out var address)) return new IPEndPoint(address, port);
        var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new ConnectionFailedException(endpoint, "host name did not resolve to any address");
        return new IPEndPoint(chosen, port);
    }

    public static IPEndPoint ParseListen(string endpoint)
    {
        var (host, port) = Split(endpoint);
        var address = host is "*" or "0.0.0.0" ? IPAddress.Any
            : host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var parsed) ? parsed
            : throw new FormatException($"Listen address '{endpoint}' must be an IP address, 'localhost' or '*' with a port.");
        return new IPEndPoint(address, port);
    }

    public static string Format(IPEndPoint endpoint) =>
        endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]:{endpoint.Port}" : $"{endpoint.Address}:{endpoint.Port}";
}
