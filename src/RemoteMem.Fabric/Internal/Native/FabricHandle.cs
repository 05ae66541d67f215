namespace RemoteMem.Fabric.Internal.Native;

/// <summary>RmRdmaFabric (fid_fabric); holds its info.</summary>
internal sealed class FabricHandle : RmRdmaHandle
{
    protected override int Close(nint value) => RmRdma.FabricClose(value);
}
