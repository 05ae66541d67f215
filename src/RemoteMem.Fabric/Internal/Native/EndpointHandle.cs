namespace RemoteMem.Fabric.Internal.Native;

/// <summary>RmRdmaEndpoint (fid_ep); holds its domain, info, CQ, AV and the context block its operations use.</summary>
internal sealed class EndpointHandle : RmRdmaHandle
{
    protected override int Close(nint value) => RmRdma.EndpointClose(value);
}
