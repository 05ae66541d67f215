namespace RemoteMem.Fabric.Internal.Native;

/// <summary>RmRdmaCq (fid_cq); holds its domain.</summary>
internal sealed class CqHandle : RmRdmaHandle
{
    protected override int Close(nint value) => RmRdma.CqClose(value);
}
