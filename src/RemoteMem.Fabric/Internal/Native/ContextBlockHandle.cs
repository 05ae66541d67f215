using System.Runtime.InteropServices;

namespace RemoteMem.Fabric.Internal.Native;

/// <summary>
/// Native memory for the 64-byte operation contexts (RMRDMA_CONTEXT_SIZE) of one endpoint. The provider may
/// write into a context until the operation's completion is read, so the block must outlive the endpoint:
/// the endpoint's handle lists this block as a parent, and it is freed only after the endpoint is closed.
/// </summary>
internal sealed unsafe class ContextBlockHandle : RmRdmaHandle
{
    public int Count { get; private set; }

    public nint Base => handle;

    public static ContextBlockHandle Allocate(int count)
    {
        var block = new ContextBlockHandle { Count = count };
        nuint bytes = (nuint)count * RmRdmaConstants.ContextSize;
        void* memory = NativeMemory.AlignedAlloc(bytes, RmRdmaConstants.ContextSize);
        NativeMemory.Clear(memory, bytes);
        block.SetHandle((nint)memory);
        return block;
    }

    public nint ContextOf(int index) => handle + index * RmRdmaConstants.ContextSize;

    /// <summary>The slot a completion's context points at, or -1 for one that is not ours (NULL included).</summary>
    public int IndexOf(nint context)
    {
        nint offset = context - handle;
        if (context == 0 || offset < 0 || offset % RmRdmaConstants.ContextSize != 0) return -1;
        nint index = offset / RmRdmaConstants.ContextSize;
        return index < Count ? (int)index : -1;
    }

    protected override int Close(nint value)
    {
        NativeMemory.AlignedFree((void*)value);
        return 0;
    }
}
