namespace RemoteMem.Transport;

/// <summary>
/// One range of a data request: <see cref="Length"/> bytes at <see cref="RemoteOffset"/> inside a
/// segment, paired with local memory at <see cref="Local"/>. The local memory must stay pinned (or be
/// native) until the request completes; the transport reads from it (writes) or fills it (reads).
/// </summary>
public readonly record struct IoOp(long RemoteOffset, nint Local, int Length);
