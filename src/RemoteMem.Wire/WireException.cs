namespace RemoteMem.Wire;

/// <summary>A frame or payload broke the protocol, or a peer answered with an error code.</summary>
public class WireException : Exception
{
    public WireException(ErrorCode code, string message) : base(message) => Code = code;

    public WireException(ErrorCode code, string message, Exception inner) : base(message, inner) => Code = code;

    /// <summary>The protocol error code.</summary>
    public ErrorCode Code { get; }
}
