namespace RemoteMem.Wire;

/// <summary>
/// Frame opcodes. Ranges: 0x01-0x0F handshake, 0x10-0x1F donor control, 0x20-0x2F leases,
/// 0x30-0x3F manager-to-donor segment control, 0x40-0x4F data, 0x50-0x5F status and events,
/// 0x60-0x67 function packages and executors (client to donor), 0x68-0x6F invocations (client to executor).
/// New opcodes are added, never renumbered; a peer answers an unknown one with
/// <see cref="ErrorCode.UnknownOpcode"/> and keeps the connection.
/// </summary>
public enum Opcode : byte
{
    Hello = 0x01,
    Auth = 0x02,

    DonorRegister = 0x10,
    DonorHeartbeat = 0x11,
    DonorDeregister = 0x12,
    DonorDrain = 0x13,
    ExecutorEnded = 0x14,

    LeaseRequest = 0x20,
    LeaseRenew = 0x21,
    LeaseRelease = 0x22,
    LeasePublish = 0x23,
    LeaseOpen = 0x24,
    DrainDonor = 0x25,
    ExecutorLease = 0x26,

    SegmentAllocate = 0x30,
    SegmentFree = 0x31,
    SegmentMigrate = 0x32,
    DonorLeave = 0x33,
    SegmentSpill = 0x34,

    Read = 0x40,
    Write = 0x41,
    ReadVector = 0x42,
    WriteVector = 0x43,

    Status = 0x50,
    LeaseLostEvent = 0x51,

    PackageQuery = 0x60,
    PackageUpload = 0x61,
    ExecutorStart = 0x62,
    ExecutorStop = 0x63,

    FunctionResolve = 0x68,
    Invoke = 0x69,
    ExecutorStats = 0x6A,
}
