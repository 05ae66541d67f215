using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using RemoteMem.Fabric.Internal;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Fabric;

/// <summary>
/// The fabric data plane: one-sided reads and writes straight into a donor's registered pool, with no
/// donor CPU on the data path. Segments whose donor offers the same provider go over the fabric; the rest
/// (donors without a fabric, or another provider) go over <see cref="Fallback"/>, the managed TCP
/// transport, so one client can mix both. The control plane stays on TCP.
/// </summary>
/// <remarks>
/// One-sided access bypasses the donor's per-request capability checks, so this side enforces them: the
/// capability must be unexpired and every range inside its segment. The donor's whole pool is registered
/// under one key; the key travels only in grants to authenticated clients, and the manager defers reusing
/// memory freed on a fabric donor until every capability for it has expired (see docs/fabric.md).
/// </remarks>
public sealed class FabricSegmentTransport : ISegmentTransport, ILocalMemoryRegistry
{
    private readonly FabricEndpoint _endpoint;
    private readonly ConcurrentDictionary<FabricAddress, FabricPeer> _peers = new();
    private readonly LocalRegistrations _local;
    private long _fabricRequests;

    private FabricSegmentTransport(FabricEndpoint endpoint, ISegmentTransport fallback)
    {
        _endpoint = endpoint;
        _local = new LocalRegistrations(endpoint);
        Fallback = fallback;
    }

    /// <summary>Opens the fabric endpoint; throws <see cref="FabricException"/> (with the reason) when the provider cannot run here.</summary>
    public static FabricSegmentTransport Open(FabricTransportOptions options, ISegmentTransport fallback, ILogger? logger = null)
    {
        var endpoint = FabricEndpoint.Open(options.ToEndpointOptions(logger));
        return new FabricSegmentTransport(endpoint, fallback);
    }

    public string Name => "fabric";

    /// <summary>The provider this side opened; only donors announcing the same one are reached over the fabric.</summary>
    public string Provider => _endpoint.Provider;

    /// <summary>The transport for segments the fabric does not reach.</summary>
    public ISegmentTransport Fallback { get; }

    /// <summary>
    /// One-sided operations have no frame to fit: a large transfer goes as one operation (splitting a
    /// 4 MiB read into frame-sized pieces cost shm about a tenth of its bandwidth). Requests for donors
    /// reached over <see cref="Fallback"/> are split to its limit here.
    /// </summary>
    public int MaxBytesPerRequest { get; } = 16 << 20;

    /// <summary>Requests that went one-sided over the fabric (the rest went to <see cref="Fallback"/>).</summary>
    public long FabricRequests => Interlocked.Read(ref _fabricRequests);

    /// <summary>True when requests for <paramref name="target"/> go over the fabric.</summary>
    public bool Reaches(SegmentTarget target) => target.Fabric is { } address && address.Provider == _endpoint.Provider;

    public IDisposable RegisterLocal(nint address, long length) => _local.Add(address, length);

    public ValueTask ReadAsync(SegmentTarget target, ReadOnlyMemory<IoOp> ops, CancellationToken cancellationToken = default) =>
        Reaches(target) ? ExecuteAsync(write: false, target, ops) : FallbackAsync(write: false, target, ops, cancellationToken);

    public ValueTask WriteAsync(SegmentTarget target, ReadOnlyMemory<IoOp> ops, CancellationToken cancellationToken = default) =>
        Reaches(target) ? ExecuteAsync(write: true, target, ops) : FallbackAsync(write: true, target, ops, cancellationToken);

    /// <summary>Hands a request to <see cref="Fallback"/>, one piece at a time where an op exceeds its request size.</summary>
    private ValueTask FallbackAsync(bool write, SegmentTarget target, ReadOnlyMemory<IoOp> ops, CancellationToken cancellationToken)
    {
        int limit = Fallback.MaxBytesPerRequest;
        long total = 0;
        foreach (var op in ops.Span) total += op.Length;
        if (total > limit) return FallbackPiecesAsync(write, target, ops, limit, cancellationToken);
        return write ? Fallback.WriteAsync(target, ops, cancellationToken) : Fallback.ReadAsync(target, ops, cancellationToken);
    }

    private async ValueTask FallbackPiecesAsync(bool write, SegmentTarget target, ReadOnlyMemory<IoOp> ops, int limit, CancellationToken cancellationToken)
    {
        for (int i = 0; i < ops.Length; i++)
        {
            var op = ops.Span[i];
            for (int done = 0; done < op.Length; done += limit)
            {
                var piece = new IoOp(op.RemoteOffset + done, op.Local + done, Math.Min(limit, op.Length - done));
                var one = new[] { piece };
                if (write) await Fallback.WriteAsync(target, one, cancellationToken).ConfigureAwait(false);
                else await Fallback.ReadAsync(target, one, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public void Read(SegmentTarget target, ReadOnlySpan<IoOp> ops)
    {
        if (!Reaches(target))
        {
            foreach (var op in ops) FallbackBlocking(write: false, target, op);
            return;
        }

        var peer = Check(target, ops, write: false);
        RepairIfBroken();
        foreach (var op in ops)
            _endpoint.Read(peer, op.Local, _local.DescriptorFor(op.Local, op.Length), RemoteAddress(target, op), target.Fabric!.Key, op.Length);
    }

    public void Write(SegmentTarget target, ReadOnlySpan<IoOp> ops)
    {
        if (!Reaches(target))
        {
            foreach (var op in ops) FallbackBlocking(write: true, target, op);
            return;
        }

        var peer = Check(target, ops, write: true);
        RepairIfBroken();
        foreach (var op in ops)
            _endpoint.Write(peer, op.Local, _local.DescriptorFor(op.Local, op.Length), RemoteAddress(target, op), target.Fabric!.Key, op.Length);
    }

    private void FallbackBlocking(bool write, SegmentTarget target, IoOp op)
    {
        int limit = Fallback.MaxBytesPerRequest;
        for (int done = 0; done < op.Length; done += limit)
        {
            ReadOnlySpan<IoOp> piece = [new IoOp(op.RemoteOffset + done, op.Local + done, Math.Min(limit, op.Length - done))];
            if (write) Fallback.Write(target, piece);
            else Fallback.Read(target, piece);
        }
    }

    private ValueTask ExecuteAsync(bool write, SegmentTarget target, ReadOnlyMemory<IoOp> ops)
    {
        FabricPeer peer;
        try
        {
            peer = Check(target, ops.Span, write);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }

        RepairIfBroken();
        // A single operation returns the endpoint's own ValueTask: no async layer of ours on the hot path.
        return ops.Length == 1 ? Start(write, peer, target, ops.Span[0]) : ExecuteManyAsync(write, peer, target, ops);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ExecuteManyAsync(bool write, FabricPeer peer, SegmentTarget target, ReadOnlyMemory<IoOp> ops)
    {
        for (int i = 0; i < ops.Length; i++) await Start(write, peer, target, ops.Span[i]).ConfigureAwait(false);
    }

    /// <summary>
    /// A broken connection (tcp after an error) fails the operations that met it; the caller retries
    /// (the client's recovery does), and the retry finds the flag and repairs the endpoint once, for
    /// everyone, before posting. Checking here costs a volatile read instead of an async layer per operation.
    /// </summary>
    private void RepairIfBroken()
    {
        if (!_endpoint.NeedsRebuild) return;
        try
        {
            _endpoint.Rebuild(_endpoint.Generation);
        }
        catch (NotSupportedException)
        {
            // Registrations bound to the endpoint (cxi): the error stands; the client reconnects.
        }
    }

    private ValueTask Start(bool write, FabricPeer peer, SegmentTarget target, in IoOp op)
    {
        nint descriptor = _local.DescriptorFor(op.Local, op.Length);
        ulong remote = RemoteAddress(target, op);
        // Writes ask for delivery completion: a write is acknowledged once visible in the donor's memory.
        return write
            ? _endpoint.WriteAsync(peer, op.Local, descriptor, remote, target.Fabric!.Key, op.Length, deliveryComplete: true)
            : _endpoint.ReadAsync(peer, op.Local, descriptor, remote, target.Fabric!.Key, op.Length);
    }

    /// <summary>The checks a donor makes on the TCP path, made here because one-sided access bypasses the donor.</summary>
    private FabricPeer Check(SegmentTarget target, ReadOnlySpan<IoOp> ops, bool write)
    {
        SegmentAccess.Check(target, ops, write);
        Interlocked.Increment(ref _fabricRequests);
        return _peers.GetOrAdd(target.Fabric!, static (address, endpoint) => endpoint.AddPeer(address.Name), _endpoint);
    }

    private static ulong RemoteAddress(SegmentTarget target, in IoOp op) =>
        target.Fabric!.Base + target.Capability.PoolOffset + (ulong)op.RemoteOffset;

    public async ValueTask DisposeAsync()
    {
        _local.Dispose();
        _endpoint.Dispose();
        await Fallback.DisposeAsync().ConfigureAwait(false);
    }
}
