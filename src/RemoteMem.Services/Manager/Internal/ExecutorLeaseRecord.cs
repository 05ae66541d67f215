namespace RemoteMem.Services.Manager.Internal;

/// <summary>An executor lease the manager has placed: the cores and GPUs it holds on its donor until it ends or expires.</summary>
internal sealed record ExecutorLeaseRecord(ulong LeaseId, ulong DonorId, int Cores, int Gpus, long ExpiresUnixMs);
