namespace RemoteMem.Fabric.Internal.Native;

/// <summary>RmRdmaMr (fid_mr); holds its domain, and its endpoint under FI_MR_ENDPOINT.</summary>
internal sealed class MrHandle : RmRdmaHandle
{
    protected override int Close(nint value) => RmRdma.MrClose(value);
}
