namespace RemoteMem.Fabric.Internal.Native;

/// <summary>RmRdmaAv (fid_av); holds its domain.</summary>
internal sealed class AvHandle : RmRdmaHandle
{
    protected override int Close(nint value) => RmRdma.AvClose(value);
}
