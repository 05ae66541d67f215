namespace RemoteMem.Wire;

/// <summary>Protocol versions and bounds shared by every peer.</summary>
public static class WireLimits
{
    /// <summary>The protocol version this build speaks best.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>The oldest protocol version this build still speaks.</summary>
    public const byte MinimumVersion = 1;

    /// <summary>Default maximum frame size (header + payload): 4 MiB of data plus room for the request prefix.</summary>
    public const int DefaultMaxFrameSize = (4 << 20) + 4096;

    /// <summary>No peer may negotiate a maximum below this (handshake and control frames must fit).</summary>
    public const int MinMaxFrameSize = 64 << 10;

    /// <summary>No peer may negotiate a maximum above this.</summary>
    public const int AbsoluteMaxFrameSize = 64 << 20;

    /// <summary>Longest string field in bytes (endpoints, names, messages).</summary>
    public const int MaxStringBytes = 4096;

    /// <summary>Most ranges in one vectored read or write.</summary>
    public const int MaxVectorRanges = 64;

    /// <summary>Most segments in one lease grant.</summary>
    public const int MaxSegmentsPerLease = 1024;
}
