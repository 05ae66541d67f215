namespace RemoteMem.Transport;

/// <summary>The endpoint of a segment a drain spilled to a file: "file:" and the path.</summary>
public static class SpillEndpoint
{
    public const string Scheme = "file:";

    public static string For(string path) => Scheme + path;

    /// <summary>The file behind <paramref name="endpoint"/>, or null for a donor's host:port.</summary>
    public static string? PathOf(string endpoint) =>
        endpoint.StartsWith(Scheme, StringComparison.Ordinal) ? endpoint[Scheme.Length..] : null;
}
