using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RemoteMem.Fabric.Internal.Native;

namespace RemoteMem.Fabric.Internal;

/// <summary>
/// The replaceable half of a <see cref="FabricEndpoint"/>: completion queue, address vector, endpoint, the
/// operations posted on them and the progress thread. The domain and its registrations stay; a rebuild
/// (tcp;ofi_rxm after a broken connection) opens a new data path and retires the old one. Each path has its
/// own operation pool and peer address table, so nothing of a retired path is ever reused.
/// </summary>
internal sealed class DataPath
{
    /// <summary><see cref="TryPost"/>'s status when the endpoint was closed under it (rebuild or dispose).</summary>
    public const int Retired = int.MinValue;

    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(10);

    private readonly string _provider;
    private readonly ILogger _logger;
    private readonly ProgressLoop _progress;
    private ulong[] _addresses = [];
    private int _posting;

    private DataPath(CqHandle cq, AvHandle av, EndpointHandle endpoint, OperationPool operations, byte[] name, string provider, FabricEndpointOptions options, ILogger logger)
    {
        Cq = cq;
        Av = av;
        Endpoint = endpoint;
        Operations = operations;
        Name = name;
        _provider = provider;
        _logger = logger;
        _progress = new ProgressLoop(this, provider, options, logger);
    }

    public CqHandle Cq { get; }

    public AvHandle Av { get; }

    public EndpointHandle Endpoint { get; }

    public OperationPool Operations { get; }

    /// <summary>fi_getname of this path's endpoint (tcp: a sockaddr; shm: a short string).</summary>
    public byte[] Name { get; }

    public int WaitKind { get; private init; }

    public static DataPath Open(DomainHandle domain, InfoHandle info, string provider, FabricEndpointOptions options, IEnumerable<FabricPeer> peers, ILogger logger)
    {
        int cqSize = Math.Max(256, options.MaxInFlight * 2);
        int waitMode = options.ProgressMode == FabricProgressMode.Spinning ? RmRdmaConstants.WaitSpin : RmRdmaConstants.WaitBlock;
        CqHandle? cq = null;
        AvHandle? av = null;
        EndpointHandle? endpoint = null;
        OperationPool? operations = null;
        try
        {
            cq = RmRdmaHandle.Open("fi_cq_open", (out CqHandle h) => RmRdma.CqOpen(domain, cqSize, waitMode, out h), domain);
            av = RmRdmaHandle.Open("fi_av_open", (out AvHandle h) => RmRdma.AvOpen(domain, 0, out h), domain);
            operations = new OperationPool(options.MaxInFlight);
            var (c, a) = (cq, av);
            endpoint = RmRdmaHandle.Open("fi_endpoint", (out EndpointHandle h) => RmRdma.EndpointOpen(domain, info, c, a, out h), domain, info, cq, av, operations.Contexts);
            Check(RmRdma.CqGetWaitKind(cq, out int waitKind), "RmRdma_CqGetWaitKind");
            var path = new DataPath(cq, av, endpoint, operations, ReadName(endpoint), provider, options, logger) { WaitKind = waitKind };
            foreach (var peer in peers) path.Insert(peer);
            path._progress.Start();
            return path;
        }
        catch
        {
            endpoint?.Dispose();
            av?.Dispose();
            cq?.Dispose();
            operations?.Contexts.Dispose();
            throw;
        }
    }

    /// <summary>This path's fi_addr for <paramref name="peer"/>.</summary>
    public bool TryGetAddress(FabricPeer peer, out ulong address)
    {
        var addresses = Volatile.Read(ref _addresses);
        address = peer.Id < addresses.Length ? addresses[peer.Id] : ulong.MaxValue;
        return address != ulong.MaxValue;
    }

    /// <summary>fi_av_insert of the peer's name. Callers serialize inserts and removals.</summary>
    public unsafe void Insert(FabricPeer peer)
    {
        ulong address;
        fixed (byte* name = peer.Name.Span)
            Check(RmRdma.AvInsert(Av, name, out address), "fi_av_insert");
        // Copy-on-write: posting threads read the table without a lock.
        var addresses = _addresses;
        var next = new ulong[Math.Max(addresses.Length, peer.Id + 1)];
        Array.Fill(next, ulong.MaxValue);
        addresses.CopyTo(next, 0);
        next[peer.Id] = address;
        Volatile.Write(ref _addresses, next);
    }

    public void Remove(FabricPeer peer)
    {
        if (!TryGetAddress(peer, out ulong address)) return;
        var next = (ulong[])_addresses.Clone();
        next[peer.Id] = ulong.MaxValue;
        Volatile.Write(ref _addresses, next);
        RmRdma.AvRemove(Av, address); // best effort: a failed removal only leaves a stale AV entry
    }

    /// <summary>One fi_read/fi_write of the operation's parameters: 0, a negative status, or <see cref="Retired"/>.</summary>
    public int TryPost(FabricOperation operation)
    {
        // Counted, then checked: FinishRetire sets the retired flag and then waits for the count to drain, so
        // no post can slip in after it has failed the operations still held (Dekker: both sides fence).
        Interlocked.Increment(ref _posting);
        try
        {
            if (Operations.IsRetired) return Retired;
            return operation.IsWrite
                ? RmRdma.Write(Endpoint, operation.Local, (ulong)operation.Length, operation.Descriptor, operation.PeerAddress, operation.RemoteAddress, operation.Key, operation.Context,
                    operation.DeliveryComplete ? RmRdmaConstants.WriteDeliveryComplete : 0)
                : RmRdma.Read(Endpoint, operation.Local, (ulong)operation.Length, operation.Descriptor, operation.PeerAddress, operation.RemoteAddress, operation.Key, operation.Context);
        }
        catch (ObjectDisposedException)
        {
            return Retired; // the SafeHandle was closed between the rent and the post
        }
        finally
        {
            Interlocked.Decrement(ref _posting);
        }
    }

    /// <summary>Queues an operation the provider refused with -FI_EAGAIN for the progress thread.</summary>
    public void Defer(FabricOperation operation) => _progress.Defer(operation);

    /// <summary>
    /// Takes, on the posting thread, the completions the queue already holds. shm performs a read with
    /// cross-memory attach inside fi_read, so its completion is there when the post returns: taking it here completes the caller's operation before the caller awaits it, without
    /// waking the progress thread and without a thread-pool hop (shm 8 B reads: ~5-11 µs before). Entries
    /// of other callers' operations are completed as the progress thread would (their continuations still
    /// run on the pool). An error entry is left to the progress thread, which is woken for it. The domain
    /// is FI_THREAD_SAFE, so this may race the progress thread's reads: each entry is returned once.
    /// </summary>
    public unsafe void ReapInline()
    {
        const int Max = 8;
        var entries = stackalloc RmRdmaCompletion[Max];
        try
        {
            int status = RmRdma.CqRead(Cq, entries, Max, out int count);
            for (int i = 0; i < count; i++) _progress.Complete(entries[i].Context);
            if (status != 0) _progress.Wake(); // -FI_EAVAIL (an error entry) or a failure: the progress thread reports it
        }
        catch (ObjectDisposedException)
        {
            // Retired under us: the retirement fails whatever is left.
        }
    }

    /// <summary>Drives the provider without consuming completions (a zero-count read), for a post that got -FI_EAGAIN.</summary>
    public unsafe void DriveProgress() => RmRdma.CqProgress(Cq, 0, 0, null, 0, out _);

    /// <summary>Retirement, step 1: no more rents or posts, progress thread stopped.</summary>
    public void BeginRetire()
    {
        Operations.Retire();
        _progress.Stop();
    }

    /// <summary>
    /// Retirement, step 2 (possibly deferred, see <see cref="SharedMemoryTeardown"/>): closes the native objects,
    /// each close deferred by the handles while a posting call still holds it.
    /// </summary>
    public void CloseNative()
    {
        Endpoint.Dispose();
        Av.Dispose();
        Cq.Dispose();
        Operations.Contexts.Dispose();
    }

    /// <summary>
    /// Retirement, step 3: once no post is running (and, when <paramref name="closed"/>, the endpoint is really
    /// closed, so the provider can complete nothing more), every operation still held fails with
    /// <paramref name="reason"/> and every quarantined context is let go. Without the close (deferred) the
    /// contexts stay valid memory: the endpoint handle keeps its context block alive.
    /// </summary>
    public void FinishRetire(Func<FabricOperation, Exception> reason, bool closed)
    {
        Interlocked.MemoryBarrier(); // the retired flag is visible before the count is read
        var waited = Stopwatch.StartNew();
        var spinner = new SpinWait();
        while ((Volatile.Read(ref _posting) != 0 || (closed && !Endpoint.IsReleased)) && waited.Elapsed < CloseWait) spinner.SpinOnce();
        if (waited.Elapsed >= CloseWait) Log.CloseStalled(_logger, _provider, waited.Elapsed.TotalSeconds);
        foreach (var operation in Operations.Operations)
        {
            if (operation.IsPending) operation.TryComplete(reason(operation));
            operation.ReleaseProvider();
        }
    }

    private static unsafe byte[] ReadName(EndpointHandle endpoint)
    {
        int length = 0;
        int status = RmRdma.EndpointGetName(endpoint, null, ref length);
        if (status != RmRdmaConstants.StatusETooSmall && status != 0) Check(status, "fi_getname");
        var name = new byte[length];
        fixed (byte* buffer = name)
            Check(RmRdma.EndpointGetName(endpoint, buffer, ref length), "fi_getname");
        return name[..length];
    }

    private static void Check(int status, string operation)
    {
        if (status != 0) throw FabricErrors.FromStatus(status, operation);
    }
}
