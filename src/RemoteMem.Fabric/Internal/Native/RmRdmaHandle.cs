using System.Runtime.InteropServices;

namespace RemoteMem.Fabric.Internal.Native;

/// <summary>
/// A SafeHandle over one shim object that keeps its parents alive: creation takes a reference on each parent
/// (DangerousAddRef) and the release gives them back after the native close. libfabric requires parents to
/// outlive children (MR -> endpoint -> AV -> CQ -> domain -> fabric -> info), and with these references the
/// order is right whatever order Dispose calls or finalizers run in: a parent disposed first only closes
/// when its last child has.
/// </summary>
internal abstract class RmRdmaHandle : SafeHandle
{
    private RmRdmaHandle[]? _parents;
    private volatile bool _released;

    protected RmRdmaHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>True once the native object is really closed (Dispose only marks it while a call holds it).</summary>
    public bool IsReleased => _released;

    /// <summary>The status of a refused native close (e.g. -FI_EBUSY); 0 otherwise.</summary>
    public int FailedCloseStatus { get; private set; }

    /// <summary>Closes the native object; 0 on success.</summary>
    protected abstract int Close(nint value);

    /// <summary>
    /// Opens a child of <paramref name="parents"/>: references on the parents are taken before the native
    /// open (a concurrent Dispose of a parent cannot close it under the open) and handed to the child.
    /// </summary>
    public static T Open<T>(string operation, Opener<T> open, params RmRdmaHandle[] parents)
        where T : RmRdmaHandle
    {
        int taken = 0;
        try
        {
            foreach (var parent in parents)
            {
                bool added = false;
                parent.DangerousAddRef(ref added);
                taken++;
            }

            int status = open(out T child);
            if (status != 0 || child.IsInvalid)
            {
                child.Dispose();
                throw FabricErrors.FromStatus(status, operation);
            }

            child._parents = parents;
            taken = 0; // the child owns the references now
            return child;
        }
        finally
        {
            for (int i = taken - 1; i >= 0; i--) parents[i].DangerousRelease();
        }
    }

    protected sealed override bool ReleaseHandle()
    {
        int status = Close(handle);
        if (status != 0)
        {
            // libfabric refused (children still open somewhere): the object stays alive, so its parents must
            // too. Keeping their references leaks them deliberately rather than closing a parent under it.
            FailedCloseStatus = status;
            return false;
        }

        var parents = _parents;
        _parents = null;
        if (parents is not null)
            for (int i = parents.Length - 1; i >= 0; i--) parents[i].DangerousRelease();
        _released = true;
        return true;
    }
}

/// <summary>A native open whose handle comes back through an out parameter (the bindings' shape).</summary>
internal delegate int Opener<T>(out T handle);
