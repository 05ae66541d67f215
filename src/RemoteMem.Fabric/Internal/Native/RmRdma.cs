using System.Runtime.InteropServices;

namespace RemoteMem.Fabric.Internal.Native;

/// <summary>
/// Bindings for every RmRdma_ export of libremotemem_rdma.so (native-rdma/include/remotemem_rdma.h is the
/// reference for each). Source-generated, blittable, no last-error capture: every export returns its status.
/// SafeHandle parameters are add-ref'ed for the duration of a call by the generated stubs, so a concurrent
/// Dispose defers the native close until the call returns.
/// </summary>
internal static unsafe partial class RmRdma
{
    public const string Library = "remotemem_rdma";

    static RmRdma() => NativeLibraryResolver.Register();

    // ---- info ----
    [LibraryImport(Library, EntryPoint = "RmRdma_GetInfo", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int GetInfo(string? provider, string? node, string? service, int isSource, out InfoHandle info);

    [LibraryImport(Library, EntryPoint = "RmRdma_InfoGetMrMode")]
    public static partial int InfoGetMrMode(InfoHandle info, out ulong mrMode);

    [LibraryImport(Library, EntryPoint = "RmRdma_InfoGetMode")]
    public static partial int InfoGetMode(InfoHandle info, out ulong mode);

    [LibraryImport(Library, EntryPoint = "RmRdma_InfoGetDataProgress")]
    public static partial int InfoGetDataProgress(InfoHandle info, out int progress);

    [LibraryImport(Library, EntryPoint = "RmRdma_InfoGetProvider")]
    public static partial int InfoGetProvider(InfoHandle info, byte* buffer, int bufferLength);

    [LibraryImport(Library, EntryPoint = "RmRdma_GetVersion")]
    public static partial int GetVersion(out int libMajor, out int libMinor, out int apiMajor, out int apiMinor);

    [LibraryImport(Library, EntryPoint = "RmRdma_FreeInfo")]
    public static partial int FreeInfo(nint info);

    // ---- fabric, domain, AV, endpoint ----
    [LibraryImport(Library, EntryPoint = "RmRdma_FabricOpen")]
    public static partial int FabricOpen(InfoHandle info, out FabricHandle fabric);

    [LibraryImport(Library, EntryPoint = "RmRdma_FabricClose")]
    public static partial int FabricClose(nint fabric);

    [LibraryImport(Library, EntryPoint = "RmRdma_DomainOpen")]
    public static partial int DomainOpen(FabricHandle fabric, InfoHandle info, out DomainHandle domain);

    [LibraryImport(Library, EntryPoint = "RmRdma_DomainClose")]
    public static partial int DomainClose(nint domain);

    [LibraryImport(Library, EntryPoint = "RmRdma_AvOpen")]
    public static partial int AvOpen(DomainHandle domain, int count, out AvHandle av);

    [LibraryImport(Library, EntryPoint = "RmRdma_AvInsert")]
    public static partial int AvInsert(AvHandle av, byte* name, out ulong fiAddress);

    [LibraryImport(Library, EntryPoint = "RmRdma_AvRemove")]
    public static partial int AvRemove(AvHandle av, ulong fiAddress);

    [LibraryImport(Library, EntryPoint = "RmRdma_AvClose")]
    public static partial int AvClose(nint av);

    [LibraryImport(Library, EntryPoint = "RmRdma_EndpointOpen")]
    public static partial int EndpointOpen(DomainHandle domain, InfoHandle info, CqHandle cq, AvHandle av, out EndpointHandle endpoint);

    [LibraryImport(Library, EntryPoint = "RmRdma_EndpointGetName")]
    public static partial int EndpointGetName(EndpointHandle endpoint, byte* buffer, ref int length);

    [LibraryImport(Library, EntryPoint = "RmRdma_EndpointClose")]
    public static partial int EndpointClose(nint endpoint);

    // ---- memory registration ----
    // The endpoint may be null (IntPtr.Zero) unless FI_MR_ENDPOINT is in effect, so it is passed raw; the
    // caller keeps it alive (MrHandle holds a reference on it).
    [LibraryImport(Library, EntryPoint = "RmRdma_MrReg")]
    public static partial int MrReg(DomainHandle domain, nint endpoint, nint buffer, ulong length, ulong access, ulong requestedKey, out MrHandle mr);

    [LibraryImport(Library, EntryPoint = "RmRdma_MrGetKey")]
    public static partial int MrGetKey(MrHandle mr, out ulong key);

    [LibraryImport(Library, EntryPoint = "RmRdma_MrGetDesc")]
    public static partial int MrGetDesc(MrHandle mr, out nint descriptor);

    [LibraryImport(Library, EntryPoint = "RmRdma_MrGetRemoteBase")]
    public static partial int MrGetRemoteBase(MrHandle mr, out ulong remoteBase);

    [LibraryImport(Library, EntryPoint = "RmRdma_MrClose")]
    public static partial int MrClose(nint mr);

    // ---- data transfer ----
    [LibraryImport(Library, EntryPoint = "RmRdma_Read")]
    public static partial int Read(EndpointHandle endpoint, nint localBuffer, ulong length, nint descriptor, ulong peer, ulong remoteAddress, ulong key, nint context);

    [LibraryImport(Library, EntryPoint = "RmRdma_Write")]
    public static partial int Write(EndpointHandle endpoint, nint localBuffer, ulong length, nint descriptor, ulong peer, ulong remoteAddress, ulong key, nint context, int flags);

    // ---- completion queue ----
    [LibraryImport(Library, EntryPoint = "RmRdma_CqOpen")]
    public static partial int CqOpen(DomainHandle domain, int size, int waitMode, out CqHandle cq);

    [LibraryImport(Library, EntryPoint = "RmRdma_CqGetWaitKind")]
    public static partial int CqGetWaitKind(CqHandle cq, out int kind);

    [LibraryImport(Library, EntryPoint = "RmRdma_CqRead")]
    public static partial int CqRead(CqHandle cq, RmRdmaCompletion* entries, int max, out int count);

    [LibraryImport(Library, EntryPoint = "RmRdma_CqReadError")]
    public static partial int CqReadError(CqHandle cq, RmRdmaCompletionError* error);

    [LibraryImport(Library, EntryPoint = "RmRdma_CqWait")]
    public static partial int CqWait(CqHandle cq, int timeoutMs);

    [LibraryImport(Library, EntryPoint = "RmRdma_CqSignal")]
    public static partial int CqSignal(CqHandle cq);

    [LibraryImport(Library, EntryPoint = "RmRdma_CqProgress")]
    public static partial int CqProgress(CqHandle cq, int mode, int timeoutMs, RmRdmaCompletion* entries, int max, out int count);

    [LibraryImport(Library, EntryPoint = "RmRdma_CqClose")]
    public static partial int CqClose(nint cq);

    // ---- errors ----
    [LibraryImport(Library, EntryPoint = "RmRdma_StrError")]
    public static partial int StrError(int status, byte* buffer, int length);

    /// <summary>RmRdma_StrError as a string (failure paths only: it allocates).</summary>
    public static string Describe(int status)
    {
        byte* buffer = stackalloc byte[256];
        return StrError(status, buffer, 256) == 0 ? Marshal.PtrToStringUTF8((nint)buffer) ?? $"status {status}" : $"status {status}";
    }
}
