using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RemoteMem.Fabric.Internal.Native;

namespace RemoteMem.Fabric.Internal;

/// <summary>
/// One libfabric endpoint (RDM, one-sided RMA) with its own fabric, domain, completion queue, address vector
/// and progress thread: the core of both sides of the fabric transport. Thread-safe; hold and reuse one per
/// process and provider.
/// <para>
/// Donor: <see cref="Open"/>, <see cref="RegisterMemory"/> of the whole pool once with remote access, then
/// publish <see cref="GetName"/>, <see cref="FabricRegistration.Key"/> and
/// <see cref="FabricRegistration.RemoteBase"/> over the control plane. The progress thread (started by
/// <see cref="Open"/>) serves peers' reads and writes; nothing else is needed until <see cref="Dispose"/>.
/// </para>
/// <para>
/// Client: <see cref="Open"/>, <see cref="RegisterMemory"/> of its local buffers (pages), <see cref="AddPeer"/>
/// for each donor's name, then <see cref="ReadAsync"/>/<see cref="WriteAsync"/> with remote address
/// <c>RemoteBase + offset</c> and the donor's key. Operations allocate nothing; each has a deadline
/// (<see cref="FabricEndpointOptions.OperationTimeout"/>) and cannot be cancelled otherwise (libfabric has no
/// cancel for RMA). On <see cref="FabricConnectionBrokenException"/> call <see cref="Rebuild()"/> and retry.
/// </para>
/// </summary>
internal sealed class FabricEndpoint : IDisposable
{
    private readonly object _gate = new();
    private readonly InfoHandle _info;
    private readonly FabricHandle _fabric;
    private readonly DomainHandle _domain;
    private readonly FabricEndpointOptions _options;
    private readonly ILogger _logger;
    private readonly long _timeoutTicks;
    private readonly List<FabricPeer> _peers = [];
    private readonly List<FabricRegistration> _registrations = [];
    private readonly HashSet<ulong> _keys = [];
    private readonly bool _sharedMemory;
    private DataPath _path;
    private int _generation;
    private volatile bool _disposed;

    private FabricEndpoint(InfoHandle info, FabricHandle fabric, DomainHandle domain, string provider, ulong mrMode, int dataProgress, FabricEndpointOptions options, ILogger logger)
    {
        _info = info;
        _fabric = fabric;
        _domain = domain;
        Provider = provider;
        MrMode = mrMode;
        DataProgress = dataProgress;
        _options = options;
        _logger = logger;
        _timeoutTicks = options.OperationTimeout.Ticks * Stopwatch.Frequency / TimeSpan.TicksPerSecond;
        _sharedMemory = SharedMemoryTeardown.Applies(provider);
        _path = DataPath.Open(domain, info, provider, options, [], logger);
    }

    /// <summary>The provider fi_getinfo chose, e.g. "tcp;ofi_rxm" or "shm".</summary>
    public string Provider { get; }

    /// <summary>The granted mr_mode (RMRDMA_MR_* bits).</summary>
    public ulong MrMode { get; }

    /// <summary>Local buffers need a descriptor (FI_MR_LOCAL): pass the registration's Descriptor.</summary>
    public bool RequiresLocalDescriptors => (MrMode & RmRdmaConstants.MrLocal) != 0;

    /// <summary>RMRDMA_PROGRESS_* of the domain; manual means the target needs its progress thread (always run).</summary>
    public int DataProgress { get; }

    public FabricProgressMode ProgressMode => _options.ProgressMode;

    public TimeSpan OperationTimeout => _options.OperationTimeout;

    /// <summary>Starts at 0; incremented by every <see cref="Rebuild()"/> (the name changes with it).</summary>
    public int Generation { get => Volatile.Read(ref _generation); private set => Volatile.Write(ref _generation, value); }

    /// <summary>Operations timed out whose contexts the provider may still write (reclaimed by a rebuild).</summary>
    public int QuarantinedOperations => Volatile.Read(ref _path).Operations.QuarantinedCount;

    /// <summary>"native" (provider's wait object), "emulated" (shm: poll + sleep) or "none" (spinning).</summary>
    public string CompletionWaitKind => Volatile.Read(ref _path).WaitKind switch
    {
        RmRdmaConstants.WaitKindNative => "native",
        RmRdmaConstants.WaitKindEmulated => "emulated",
        _ => "none",
    };

    /// <summary>Opens fabric, domain, CQ, AV and endpoint for <see cref="FabricEndpointOptions.Provider"/> and starts the progress thread.</summary>
    /// <exception cref="FabricException">The shim is missing, the provider does not exist here, or an open failed.</exception>
    public static FabricEndpoint Open(FabricEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var logger = options.Logger ?? NullLogger.Instance;
        EnsureLibrary(options.Provider);
        InfoHandle? info = null;
        FabricHandle? fabric = null;
        DomainHandle? domain = null;
        try
        {
            info = OpenInfo(options.Provider, options.LocalAddress);
            var i = info;
            fabric = RmRdmaHandle.Open("fi_fabric", (out FabricHandle h) => RmRdma.FabricOpen(i, out h), info);
            var f = fabric;
            domain = RmRdmaHandle.Open("fi_domain", (out DomainHandle h) => RmRdma.DomainOpen(f, i, out h), fabric, info);
            Check(RmRdma.InfoGetMrMode(info, out ulong mrMode), "RmRdma_InfoGetMrMode");
            Check(RmRdma.InfoGetDataProgress(info, out int progress), "RmRdma_InfoGetDataProgress");
            var endpoint = new FabricEndpoint(info, fabric, domain, ProviderName(info), mrMode, progress, options, logger);
            if (endpoint._sharedMemory) SharedMemoryTeardown.Opened();
            Log.Opened(logger, endpoint.Provider, mrMode, options.ProgressMode, endpoint.CompletionWaitKind, endpoint.GetName().Length);
            return endpoint;
        }
        catch
        {
            domain?.Dispose();
            fabric?.Dispose();
            info?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An operation on the current path failed with a broken connection (tcp after an error): callers
    /// <see cref="Rebuild(int)"/> with the <see cref="Generation"/> they read before posting again.
    /// </summary>
    public bool NeedsRebuild => CurrentPath().Operations.IsBroken;

    /// <summary>This endpoint's address for out-of-band exchange (a copy). Changes with <see cref="Rebuild()"/>.</summary>
    public byte[] GetName() => (byte[])CurrentPath().Name.Clone();

    /// <summary>
    /// Registers <paramref name="length"/> bytes at <paramref name="address"/> (memory that stays allocated
    /// until the registration is disposed). <paramref name="remoteAccess"/>: peers may read and write it (a
    /// donor's pool); otherwise it is a local buffer for this side's reads and writes (a client's pages).
    /// Keys are random per registration where the application picks them (not FI_MR_PROV_KEY).
    /// </summary>
    /// <exception cref="FabricException">fi_mr_reg failed; status RMRDMA_E_MEMLOCK names RLIMIT_MEMLOCK.</exception>
    public FabricRegistration RegisterMemory(nint address, long length, bool remoteAccess)
    {
        ArgumentOutOfRangeException.ThrowIfZero(address);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        ulong access = RmRdmaConstants.AccessRead | RmRdmaConstants.AccessWrite;
        if (remoteAccess) access |= RmRdmaConstants.AccessRemoteRead | RmRdmaConstants.AccessRemoteWrite;
        lock (_gate)
        {
            ThrowIfDisposed();
            ulong requestedKey = NewKey();
            var parents = new List<RmRdmaHandle> { _domain };
            nint endpointForMr = 0;
            if ((MrMode & RmRdmaConstants.MrEndpoint) != 0)
            {
                // FI_MR_ENDPOINT binds the MR to the endpoint: the MR holds it (and the endpoint can then not be rebuilt).
                parents.Add(_path.Endpoint);
                endpointForMr = _path.Endpoint.DangerousGetHandle();
            }

            var domain = _domain;
            var mr = RmRdmaHandle.Open("fi_mr_reg", (out MrHandle h) => RmRdma.MrReg(domain, endpointForMr, address, (ulong)length, access, requestedKey, out h), [.. parents]);
            try
            {
                Check(RmRdma.MrGetKey(mr, out ulong key), "fi_mr_key");
                Check(RmRdma.MrGetDesc(mr, out nint descriptor), "fi_mr_desc");
                Check(RmRdma.MrGetRemoteBase(mr, out ulong remoteBase), "RmRdma_MrGetRemoteBase");
                var registration = new FabricRegistration(this, mr, address, length, remoteAccess, key, descriptor, remoteBase);
                _registrations.Add(registration);
                return registration;
            }
            catch
            {
                mr.Dispose();
                throw;
            }
        }
    }

    /// <summary>Inserts a peer's name (from its <see cref="GetName"/>) into the address vector.</summary>
    public FabricPeer AddPeer(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty) throw new ArgumentException("A peer name is never empty.", nameof(name));
        lock (_gate)
        {
            ThrowIfDisposed();
            // Ids are never reused, so a stale FabricPeer can never address a newer peer in some AV slot.
            var peer = new FabricPeer(this, _peers.Count, name.ToArray());
            _path.Insert(peer);
            _peers.Add(peer);
            return peer;
        }
    }

    /// <summary>Removes a peer (e.g. a donor that went away); its later operations fail at once.</summary>
    public void RemovePeer(FabricPeer peer)
    {
        CheckOwner(peer);
        lock (_gate)
        {
            if (_disposed || peer.IsRemoved) return;
            peer.IsRemoved = true;
            _path.Remove(peer);
        }
    }

    /// <summary>
    /// Reads <paramref name="length"/> bytes at <paramref name="remoteAddress"/> (the peer's RemoteBase + offset)
    /// under <paramref name="key"/> into <paramref name="local"/> (pinned or native; <paramref name="descriptor"/>
    /// from its registration, or 0 where the provider needs none). Completes when the data is in place.
    /// </summary>
    public ValueTask ReadAsync(FabricPeer peer, nint local, nint descriptor, ulong remoteAddress, ulong key, long length) =>
        StartAsync(isWrite: false, peer, local, descriptor, remoteAddress, key, length, deliveryComplete: false);

    /// <summary>
    /// Writes <paramref name="length"/> bytes from <paramref name="local"/> to the peer. With
    /// <paramref name="deliveryComplete"/> (FI_DELIVERY_COMPLETE) completion means visible in the peer's memory;
    /// without, only that the source may be reused.
    /// </summary>
    public ValueTask WriteAsync(FabricPeer peer, nint local, nint descriptor, ulong remoteAddress, ulong key, long length, bool deliveryComplete = true) =>
        StartAsync(isWrite: true, peer, local, descriptor, remoteAddress, key, length, deliveryComplete);

    /// <summary>Blocking <see cref="ReadAsync"/> (waits on a monitor, allocates nothing).</summary>
    public void Read(FabricPeer peer, nint local, nint descriptor, ulong remoteAddress, ulong key, long length) =>
        Run(isWrite: false, peer, local, descriptor, remoteAddress, key, length, deliveryComplete: false);

    /// <summary>Blocking <see cref="WriteAsync"/>.</summary>
    public void Write(FabricPeer peer, nint local, nint descriptor, ulong remoteAddress, ulong key, long length, bool deliveryComplete = true) =>
        Run(isWrite: true, peer, local, descriptor, remoteAddress, key, length, deliveryComplete);

    /// <summary>
    /// Replaces the CQ, AV and endpoint (same fabric, domain and registrations; peers re-inserted), which is
    /// how tcp;ofi_rxm recovers from a broken connection. Operations in flight fail with
    /// <see cref="FabricConnectionBrokenException"/>; quarantined contexts are reclaimed. The name changes:
    /// republish it if peers address this side (a donor). Not possible under FI_MR_ENDPOINT (registrations
    /// are bound to the old endpoint): dispose and open a new endpoint there.
    /// </summary>
    public void Rebuild()
    {
        lock (_gate) RebuildLocked();
    }

    /// <summary>
    /// <see cref="Rebuild()"/> unless the endpoint was rebuilt since the caller read <see cref="Generation"/> as
    /// <paramref name="observedGeneration"/>: many callers that saw the same broken connection rebuild once.
    /// True when this call rebuilt.
    /// </summary>
    public bool Rebuild(int observedGeneration)
    {
        lock (_gate)
        {
            if (Generation != observedGeneration)
            {
                ThrowIfDisposed();
                return false;
            }

            RebuildLocked();
            return true;
        }
    }

    private void RebuildLocked()
    {
        ThrowIfDisposed();
        if ((MrMode & RmRdmaConstants.MrEndpoint) != 0)
            throw new NotSupportedException($"{Provider} binds registrations to the endpoint (FI_MR_ENDPOINT): dispose this FabricEndpoint and open a new one, then register again.");
        var fresh = DataPath.Open(_domain, _info, Provider, _options, _peers.Where(p => !p.IsRemoved), _logger);
        var old = _path;
        Volatile.Write(ref _path, fresh);
        Generation++;
        old.BeginRetire();
        old.FinishRetire(FabricErrors.Rebuilt, CloseNative(old, leaving: false));
        Log.Rebuilt(_logger, Provider, Generation, _peers.Count(p => !p.IsRemoved));
    }

    /// <summary>Stops the progress thread, fails operations in flight, closes registrations and every libfabric object.</summary>
    public void Dispose()
    {
        DataPath path;
        FabricRegistration[] registrations;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            path = _path;
            registrations = [.. _registrations];
        }

        path.BeginRetire();
        foreach (var registration in registrations) registration.Dispose();
        path.FinishRetire(FabricErrors.DisposedInFlight, CloseNative(path, leaving: true));
        // Deferred by the handles' references until every child (and any call in progress) is done.
        _domain.Dispose();
        _fabric.Dispose();
        _info.Dispose();
    }

    /// <summary>Closes a retired path's native objects now, or later for shm (see <see cref="SharedMemoryTeardown"/>); true when now.</summary>
    private bool CloseNative(DataPath path, bool leaving)
    {
        if (!_sharedMemory)
        {
            path.CloseNative();
            return true;
        }

        return SharedMemoryTeardown.Close(path.CloseNative, leaving);
    }

    internal void Forget(FabricRegistration registration)
    {
        lock (_gate) _registrations.Remove(registration);
    }

    private ValueTask StartAsync(bool isWrite, FabricPeer peer, nint local, nint descriptor, ulong remoteAddress, ulong key, long length, bool deliveryComplete)
    {
        Validate(peer, local, length);
        long deadline = Stopwatch.GetTimestamp() + _timeoutTicks;
        while (true)
        {
            var path = CurrentPath();
            if (path.Operations.TryRent(out var operation))
            {
                Post(path, operation, isWrite, peer, local, descriptor, remoteAddress, key, length, deliveryComplete, deadline, synchronous: false);
                return operation.AsValueTask();
            }

            if (!path.Operations.IsRetired)
                return StartSlowAsync(isWrite, peer, local, descriptor, remoteAddress, key, length, deliveryComplete, deadline);
            // Retired by a rebuild between reading the path and renting: take the new one.
        }
    }

    /// <summary>Every slot is busy: wait for one (allocates; this is backpressure, not the steady state).</summary>
    private async ValueTask StartSlowAsync(bool isWrite, FabricPeer peer, nint local, nint descriptor, ulong remoteAddress, ulong key, long length, bool deliveryComplete, long deadline)
    {
        while (true)
        {
            var path = CurrentPath();
            var operation = await path.Operations.RentAsync(Remaining(deadline)).ConfigureAwait(false);
            if (operation is not null)
            {
                Post(path, operation, isWrite, peer, local, descriptor, remoteAddress, key, length, deliveryComplete, deadline, synchronous: false);
                await operation.AsValueTask().ConfigureAwait(false);
                return;
            }

            if (!path.Operations.IsRetired)
                throw FabricErrors.NoSlot(Provider, path.Operations.Capacity, path.Operations.QuarantinedCount, _options.OperationTimeout);
        }
    }

    private void Run(bool isWrite, FabricPeer peer, nint local, nint descriptor, ulong remoteAddress, ulong key, long length, bool deliveryComplete)
    {
        Validate(peer, local, length);
        long deadline = Stopwatch.GetTimestamp() + _timeoutTicks;
        while (true)
        {
            var path = CurrentPath();
            if (path.Operations.TryRent(out var operation) || path.Operations.TryRent(Remaining(deadline), out operation))
            {
                Post(path, operation, isWrite, peer, local, descriptor, remoteAddress, key, length, deliveryComplete, deadline, synchronous: true);
                operation.Wait();
                return;
            }

            if (!path.Operations.IsRetired)
                throw FabricErrors.NoSlot(Provider, path.Operations.Capacity, path.Operations.QuarantinedCount, _options.OperationTimeout);
        }
    }

    /// <summary>
    /// Posts a rented operation. Every outcome goes through the operation (the caller awaits it): a failed or
    /// refused post completes it at once with the error and gives the provider's share back. -FI_EAGAIN
    /// (provider queues full, or tcp still connecting) is retried once after driving progress, then handed
    /// to the progress thread, which retries after each round of completions: no caller thread spins.
    /// </summary>
    private void Post(DataPath path, FabricOperation operation, bool isWrite, FabricPeer peer, nint local, nint descriptor, ulong remoteAddress, ulong key, long length, bool deliveryComplete, long deadline, bool synchronous)
    {
        bool known = path.TryGetAddress(peer, out ulong address);
        operation.Arm(isWrite, peer, address, local, descriptor, remoteAddress, key, length, deliveryComplete, deadline, synchronous);
        if (!known)
        {
            Refuse(operation, new InvalidOperationException($"Peer {peer.Id} was removed from this endpoint."));
            return;
        }

        int status = path.TryPost(operation);
        if (status == RmRdmaConstants.StatusEAgain)
        {
            path.DriveProgress();
            status = path.TryPost(operation);
        }

        switch (status)
        {
            case 0:
                if (_sharedMemory) path.ReapInline(); // shm completed it inside the post (cross-memory attach)
                return;
            case RmRdmaConstants.StatusEAgain:
                path.Defer(operation);
                return;
            case DataPath.Retired:
                Refuse(operation, _disposed ? FabricErrors.DisposedInFlight(operation) : FabricErrors.Rebuilt(operation));
                return;
            default:
                Refuse(operation, FabricErrors.FromStatus(status, isWrite ? "fi_write" : "fi_read"));
                return;
        }
    }

    private static void Refuse(FabricOperation operation, Exception error)
    {
        operation.TryComplete(error);
        operation.ReleaseProvider(); // nothing was posted: the provider never held the context
    }

    private void Validate(FabricPeer peer, nint local, long length)
    {
        CheckOwner(peer);
        ArgumentOutOfRangeException.ThrowIfZero(local);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
    }

    private void CheckOwner(FabricPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (peer.Owner != this) throw new ArgumentException("The peer belongs to another endpoint.", nameof(peer));
    }

    private DataPath CurrentPath()
    {
        ThrowIfDisposed();
        return Volatile.Read(ref _path);
    }

    private void ThrowIfDisposed()
    {
        if (_disposed) throw FabricErrors.Disposed();
    }

    private static TimeSpan Remaining(long deadline) =>
        TimeSpan.FromTicks(Math.Max(0, (deadline - Stopwatch.GetTimestamp()) * TimeSpan.TicksPerSecond / Stopwatch.Frequency));

    private ulong NewKey()
    {
        // Where the application picks keys they must be unique in the domain; random ones also make a key
        // useless to guess for a peer that was never given it (tcp checks keys; shm's fast path does not).
        Span<byte> bytes = stackalloc byte[8];
        ulong key;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            key = BitConverter.ToUInt64(bytes);
        }
        while (key == 0 || !_keys.Add(key));
        return key;
    }

    private static void EnsureLibrary(string provider)
    {
        if (NativeLibraryResolver.Load().Handle == 0)
            throw new FabricException(FabricSupport.Probe(provider).Message);
    }

    private static InfoHandle OpenInfo(string provider, string? localAddress)
    {
        int status = RmRdma.GetInfo(provider, localAddress, null, localAddress is null ? 0 : 1, out var info);
        if (status == 0 && !info.IsInvalid) return info;
        info.Dispose();
        if (status == RmRdmaConstants.StatusENoData)
        {
            // The probe explains a missing provider; when the provider exists, the local address is what matched nothing.
            var probe = FabricSupport.Probe(provider);
            throw new FabricException(probe.IsSupported
                ? $"{provider} offers no RDM endpoint with RMA at local address {localAddress}: pass the address of an interface it serves (or none)."
                : probe.Message, status);
        }
        throw FabricErrors.FromStatus(status, $"fi_getinfo(provider \"{provider}\", node \"{localAddress}\")");
    }

    private static unsafe string ProviderName(InfoHandle info)
    {
        byte* buffer = stackalloc byte[128];
        Check(RmRdma.InfoGetProvider(info, buffer, 128), "RmRdma_InfoGetProvider");
        return Marshal.PtrToStringUTF8((nint)buffer) ?? "";
    }

    private static void Check(int status, string operation)
    {
        if (status != 0) throw FabricErrors.FromStatus(status, operation);
    }
}
