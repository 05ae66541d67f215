using RemoteMem.Wire;

namespace RemoteMem.Transport;

/// <summary>Settings of one side of the managed TCP transport.</summary>
public sealed class TransportOptions
{
    /// <summary>Largest frame (header + payload) this side accepts; the handshake agrees on the smaller of both sides.</summary>
    public int MaxFrameSize { get; set; } = WireLimits.DefaultMaxFrameSize;

    /// <summary>Requests one client connection keeps in flight at most; further callers wait (backpressure).</summary>
    public int MaxInFlight { get; set; } = 256;

    /// <summary>A request not answered within this time fails, and its connection is closed (its buffers may still be written to otherwise).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Time to connect and complete the handshake.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a connection holds the answer of a read sent ahead (<see cref="IReadAheadTransport"/>)
    /// for its caller to claim before discarding it. Answers behind it on the connection would wait
    /// meanwhile, so an ordinary request in flight ends the hold at once (the read-ahead is discarded;
    /// only other read-aheads wait). Default 5 ms: a scan claims within microseconds, or a few
    /// milliseconds when its thread is not scheduled at once on a busy node; one that computes between
    /// blocks gives up reading ahead.
    /// </summary>
    public TimeSpan ReadAheadHold { get; set; } = TimeSpan.FromMilliseconds(5);

    internal void Validate()
    {
        if (MaxFrameSize < WireLimits.MinMaxFrameSize || MaxFrameSize > WireLimits.AbsoluteMaxFrameSize)
            throw new ArgumentOutOfRangeException(nameof(MaxFrameSize), MaxFrameSize, $"MaxFrameSize must be between {WireLimits.MinMaxFrameSize} and {WireLimits.AbsoluteMaxFrameSize} bytes.");
        if (MaxInFlight is < 1 or > 65536)
            throw new ArgumentOutOfRangeException(nameof(MaxInFlight), MaxInFlight, "MaxInFlight must be between 1 and 65536.");
        if (ReadAheadHold <= TimeSpan.Zero || ReadAheadHold > RequestTimeout)
            throw new ArgumentOutOfRangeException(nameof(ReadAheadHold), ReadAheadHold, "ReadAheadHold must be positive and at most RequestTimeout.");
    }
}
