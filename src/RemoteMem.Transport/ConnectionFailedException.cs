namespace RemoteMem.Transport;

/// <summary>A connection could not be made, was lost, or timed out; requests on it did not complete.</summary>
public sealed class ConnectionFailedException : IOException
{
    public ConnectionFailedException(string endpoint, string message, Exception? inner = null)
        : base($"{endpoint}: {message}", inner) => Endpoint = endpoint;

    /// <summary>The remote endpoint, as host:port.</summary>
    public string Endpoint { get; }
}
