namespace RemoteMem.Fabric.Internal.Native;

/// <summary>RmRdmaInfo (fi_getinfo's list). Parent of fabric, domain and endpoint, which read it.</summary>
internal sealed class InfoHandle : RmRdmaHandle
{
    protected override int Close(nint value) => RmRdma.FreeInfo(value);
}
