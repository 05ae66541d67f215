namespace RemoteMem.Fabric.Internal;

/// <summary>
/// The client's long-lived local buffers (page-cache frames) registered with the fabric once, and the
/// lookup of a buffer's descriptor per operation. Providers without FI_MR_LOCAL need no descriptor for
/// other memory; ones with it (verbs, efa) get a registration for the operation's buffer on first use.
/// </summary>
internal sealed class LocalRegistrations(FabricEndpoint endpoint) : IDisposable
{
    private volatile FabricRegistration[] _regions = [];
    private readonly object _gate = new();

    public IDisposable Add(nint address, long length)
    {
        var registration = endpoint.RegisterMemory(address, length, remoteAccess: false);
        lock (_gate) _regions = [.. _regions, registration];
        return new Removal(this, registration);
    }

    /// <summary>The descriptor covering [address, +length), 0 when none does and the provider needs none.</summary>
    public nint DescriptorFor(nint address, long length)
    {
        foreach (var region in _regions)
        {
            if (address >= region.Address && address + (nint)length <= region.Address + (nint)region.Length) return region.Descriptor;
        }

        if (!endpoint.RequiresLocalDescriptors) return 0;
        // FI_MR_LOCAL: register the buffer (rounded out to pages, kept: callers reuse their buffers).
        long page = Environment.SystemPageSize;
        nint start = address & ~(nint)(page - 1);
        long span = (address - start + length + page - 1) & ~(page - 1);
        Add(start, span);
        return DescriptorFor(address, length);
    }

    private void Remove(FabricRegistration registration)
    {
        lock (_gate) _regions = [.. _regions.Where(r => r != registration)];
        registration.Dispose();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var region in _regions) region.Dispose();
            _regions = [];
        }
    }

    private sealed class Removal(LocalRegistrations owner, FabricRegistration registration) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) owner.Remove(registration);
        }
    }
}
