namespace RemoteMem.Fabric.Internal.Native;

/// <summary>The header's #defines (libfabric's values where they mirror one).</summary>
internal static class RmRdmaConstants
{
    public const int ContextSize = 64;

    public const ulong AccessRead = 1UL << 8;
    public const ulong AccessWrite = 1UL << 9;
    public const ulong AccessRemoteRead = 1UL << 12;
    public const ulong AccessRemoteWrite = 1UL << 13;

    public const ulong MrLocal = 1UL << 2;
    public const ulong MrVirtAddr = 1UL << 4;
    public const ulong MrAllocated = 1UL << 5;
    public const ulong MrProvKey = 1UL << 6;
    public const ulong MrEndpoint = 1UL << 9;

    public const int ProgressUnspecified = 0;
    public const int ProgressAuto = 1;
    public const int ProgressManual = 2;

    public const int WaitSpin = 0;
    public const int WaitBlock = 1;

    public const int WaitKindNone = 0;
    public const int WaitKindNative = 1;
    public const int WaitKindEmulated = 2;

    public const int WriteDeliveryComplete = 1;

    public const int StatusOk = 0;
    public const int StatusEAgain = -11;
    public const int StatusEInval = -22;
    public const int StatusENoData = -61;
    public const int StatusETooSmall = -257;
    public const int StatusEAvail = -259;
    public const int StatusEBadFlags = -260;

    public const int KeyTooLarge = -1001;
    public const int Memlock = -1002;
    public const int EndpointRequired = -1003;
}
