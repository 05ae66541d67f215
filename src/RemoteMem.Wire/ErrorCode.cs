namespace RemoteMem.Wire;

/// <summary>
/// Numeric status carried in every response header. 0 is success; an error response's payload is
/// a UTF-8 message (u16 length + bytes). Codes are stable: add, never renumber.
/// </summary>
public enum ErrorCode : ushort
{
    Ok = 0,

    // Framing and session (1-19): the frame or connection is at fault.
    MalformedFrame = 1,
    UnsupportedVersion = 2,
    FrameTooLarge = 3,
    UnknownOpcode = 4,
    AuthenticationFailed = 5,
    NotAuthenticated = 6,
    NotPermitted = 7,

    // Capabilities and ranges (20-39): the request is refused, the connection stays.
    CapabilityInvalid = 20,
    CapabilityExpired = 21,
    CapabilityRevoked = 22,
    OutOfRange = 23,
    RightsDenied = 24,

    // Resources and leases (40-59).
    InsufficientCapacity = 40,
    NoDonors = 41,
    UnknownDonor = 42,
    LeaseNotFound = 43,
    LeaseLost = 44,
    InvalidArgument = 45,
    NameExists = 46,
    NameNotFound = 47,

    /// <summary>Client-side only (never sent): stored data failed its checksum.</summary>
    ChecksumMismatch = 48,

    /// <summary>The segment is being copied to another donor (a drain): writes wait; refresh the lease's grant and retry.</summary>
    SegmentMoving = 49,

    // Functions (50-59).
    /// <summary>The function threw; the message carries the exception's type and message.</summary>
    FunctionFailed = 50,

    /// <summary>The invocation ran past its deadline (its cancellation token was cancelled).</summary>
    DeadlineExceeded = 51,

    /// <summary>The executor process is gone (crashed, killed or stopped); its pending calls fail with this.</summary>
    ExecutorLost = 52,

    /// <summary>A function package is not a valid package (bad hash, bad archive, no entry assembly).</summary>
    PackageInvalid = 53,

    /// <summary>The donor does not hold the package named: upload it first.</summary>
    PackageMissing = 54,

    // Service state (60-79).
    ShuttingDown = 60,
    Timeout = 61,
    InternalError = 62,
}
