namespace RemoteMem.Fabric.Internal.Native;

/// <summary>RmRdmaDomain (fid_domain); holds its fabric and info.</summary>
internal sealed class DomainHandle : RmRdmaHandle
{
    protected override int Close(nint value) => RmRdma.DomainClose(value);
}
