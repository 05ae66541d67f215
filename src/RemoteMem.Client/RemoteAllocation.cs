using System.Buffers;
using System.Runtime.CompilerServices;
using RemoteMem.Client.Internal;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Client;

/// <summary>
/// A leased range of remote memory, possibly striped over several donors (invisible to the caller).
/// Thread-safe: many reads and writes may run at once; overlapping writes from different threads
/// land in an unspecified order, as with local memory. Dispose it to release the lease.
/// </summary>
public sealed class RemoteAllocation : IAsyncDisposable
{
    private readonly RemoteMemClient _client;
    /// <summary>Replica groups: stripe s lives in group s % Length, on every target of that group. Replaced whole on renewal.</summary>
    private SegmentTarget[][] _groups;
    private long _expiresUnixMs;
    private string? _lostReason;
    private int _disposed;

    internal RemoteAllocation(RemoteMemClient client, LeaseGrant grant, bool autoRenew, bool writable)
    {
        _client = client;
        LeaseId = grant.LeaseId;
        HolderId = grant.HolderId;
        IsWritable = writable;
        Length = (long)grant.Bytes;
        StripeSize = (int)grant.StripeSize;
        AutoRenew = autoRenew;
        _groups = ToGroups(grant);
        _expiresUnixMs = grant.ExpiresUnixMs;
        TtlMs = Math.Max(1, grant.ExpiresUnixMs - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }

    /// <summary>The manager's id of the lease behind this allocation.</summary>
    public ulong LeaseId { get; }

    /// <summary>This process's hold on the lease (a published lease has one holder per opener).</summary>
    public ulong HolderId { get; }

    /// <summary>False when opened read-only by name: writes throw <see cref="InvalidOperationException"/>.</summary>
    public bool IsWritable { get; }

    /// <summary>Size in bytes; valid offsets are [0, Length).</summary>
    public long Length { get; }

    /// <summary>Bytes per stripe: byte i lives on donor (i / StripeSize) % DonorCount.</summary>
    public int StripeSize { get; }

    /// <summary>Number of donors the allocation is striped over.</summary>
    public int DonorCount => Targets.Select(t => t.Endpoint).Distinct().Count();

    /// <summary>The donor endpoints, in stripe order.</summary>
    public IReadOnlyList<string> Donors => Targets.Select(t => t.Endpoint).ToArray();

    /// <summary>When the lease expires unless renewed (the client renews it automatically).</summary>
    public DateTimeOffset ExpiresAt => DateTimeOffset.FromUnixTimeMilliseconds(Interlocked.Read(ref _expiresUnixMs));

    /// <summary>True once the data is known to be gone; every access then throws <see cref="LeaseLostException"/>.</summary>
    public bool IsLost => Volatile.Read(ref _lostReason) is not null;

    internal bool AutoRenew { get; }

    /// <summary>The client's data transport (TCP, or fabric with TCP for donors without one).</summary>
    internal ISegmentTransport Transport => _client.Transport;

    /// <summary>The current segments and capabilities (replaced whole on renewal).</summary>
    /// <summary>The segments by column (stripe index modulo column count), each with its replicas.</summary>
    internal SegmentTarget[][] Groups => Volatile.Read(ref _groups);

    internal IReadOnlyList<SegmentTarget> Targets => Volatile.Read(ref _groups).SelectMany(g => g).ToArray();

    private long TtlMs { get; }

    internal long RenewDueUnixMs => Interlocked.Read(ref _expiresUnixMs) - TtlMs * 2 / 3;

    /// <summary>Reads <c>destination.Length</c> bytes starting at <paramref name="offset"/>.</summary>
    public ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        CheckRange(offset, destination.Length);
        return destination.IsEmpty ? default : TransferAsync(write: false, offset, destination, 0, destination.Length, cancellationToken);
    }

    /// <summary>Writes <paramref name="source"/> starting at <paramref name="offset"/>; complete means stored on every donor involved.</summary>
    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        CheckRange(offset, source.Length);
        CheckWritable();
        return source.IsEmpty ? default : TransferAsync(write: true, offset, source, 0, source.Length, cancellationToken);
    }

    /// <summary>Blocking <see cref="ReadAsync"/>.</summary>
    public unsafe void Read(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        if (destination.IsEmpty) return;
        fixed (byte* p = destination) Wait(TransferAsync(write: false, offset, default, (nint)p, destination.Length, CancellationToken.None));
    }

    /// <summary>Blocking <see cref="WriteAsync"/>.</summary>
    public unsafe void Write(long offset, ReadOnlySpan<byte> source)
    {
        CheckRange(offset, source.Length);
        CheckWritable();
        if (source.IsEmpty) return;
        fixed (byte* p = source) Wait(TransferAsync(write: true, offset, default, (nint)p, source.Length, CancellationToken.None));
    }

    /// <summary>Reads into native or otherwise pinned memory (the page cache's frames).</summary>
    internal ValueTask ReadNativeAsync(long offset, nint local, int length, CancellationToken cancellationToken)
    {
        CheckRange(offset, length);
        return length == 0 ? default : TransferAsync(write: false, offset, default, local, length, cancellationToken);
    }

    /// <summary>Writes from native or otherwise pinned memory (the page cache's frames).</summary>
    internal ValueTask WriteNativeAsync(long offset, nint local, int length, CancellationToken cancellationToken)
    {
        CheckRange(offset, length);
        CheckWritable();
        return length == 0 ? default : TransferAsync(write: true, offset, default, local, length, cancellationToken);
    }

    /// <summary>
    /// Reads several ranges, each into its own native memory (a run of pages into the page cache's
    /// frames), in as few requests as the striping allows. <paramref name="ranges"/> name offsets in
    /// this allocation and must stay unchanged until the read completes.
    /// </summary>
    internal ValueTask ReadScatteredNativeAsync(ReadOnlyMemory<IoOp> ranges, CancellationToken cancellationToken)
    {
        foreach (var range in ranges.Span) CheckRange(range.RemoteOffset, range.Length);
        return ranges.IsEmpty ? default : TransferAsync(write: false, 0, default, 0, 0, cancellationToken, ranges);
    }

    /// <summary>
    /// Sends the reads of [<paramref name="offset"/>, +<paramref name="length"/>) ahead of their
    /// destination, when the transport can (<see cref="IReadAheadTransport"/>): see
    /// <see cref="StripedIO.BeginReadAhead"/>. 0, never an exception, when it cannot: the range is outside
    /// the allocation, or the lease is lost or disposed.
    /// </summary>
    internal int BeginReadAhead(long offset, int length, ReadAhead[] parts)
    {
        if (_client.Transport is not IReadAheadTransport transport || IsLost || Volatile.Read(ref _disposed) != 0) return 0;
        if (offset < 0 || length <= 0 || length > Length - offset) return 0;
        return StripedIO.BeginReadAhead(transport, _client.Transport.MaxBytesPerRequest, Volatile.Read(ref _groups), StripeSize, offset, length, parts);
    }

    /// <summary>Blocks a Span caller on an async transfer (no allocation when it completed at once).</summary>
    internal static void Wait(ValueTask task)
    {
        if (task.IsCompletedSuccessfully) return;
        task.AsTask().GetAwaiter().GetResult();
    }

    private void CheckWritable()
    {
        if (!IsWritable) throw new InvalidOperationException($"Lease {LeaseId} was opened read-only; open it with writable: true to write.");
    }

    private void CheckRange(long offset, int count)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (offset < 0 || offset > Length || count > Length - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{count}) is outside the allocation's {Length} bytes.");
    }

    /// <summary>
    /// The one transfer path: moves [<paramref name="offset"/>, +<paramref name="length"/>) from or to
    /// <paramref name="memory"/> when given (async callers) or <paramref name="local"/> (callers that pinned
    /// a span), or the <paramref name="scattered"/> ranges when given instead, recovering from donor
    /// failures as documented.
    /// </summary>
    /// <remarks>
    /// The first attempt runs without an async layer, and a managed buffer is held by <c>fixed</c> rather
    /// than a GCHandle: a transport that completes inline (shm) then pays for neither (together ~0.1 µs of
    /// a 2.8 µs read). An attempt still in flight pins the buffer before the <c>fixed</c> scope ends, so the
    /// buffer never moves while the transport holds its address.
    /// </remarks>
    private unsafe ValueTask TransferAsync(bool write, long offset, ReadOnlyMemory<byte> memory, nint local, long length, CancellationToken cancellationToken, ReadOnlyMemory<IoOp> scattered = default)
    {
        long started = Environment.TickCount64;
        if (memory.IsEmpty)
        {
            var request = new Transfer(write, offset, local, length, scattered);
            var pending = Attempt(request, cancellationToken);
            return pending.IsCompletedSuccessfully ? Done(pending) : FinishAsync(pending, default, request, started, cancellationToken);
        }

        fixed (byte* pointer = memory.Span)
        {
            var request = new Transfer(write, offset, (nint)pointer, length, scattered);
            var pending = Attempt(request, cancellationToken);
            return pending.IsCompletedSuccessfully ? Done(pending) : FinishAsync(pending, memory.Pin(), request, started, cancellationToken);
        }
    }

    /// <summary>One transfer's parameters, the same for every attempt.</summary>
    private readonly record struct Transfer(bool Write, long Offset, nint Local, long Length, ReadOnlyMemory<IoOp> Scattered);

    // Consumes a completed result (hands a pooled source back) and reports plain success.
    private static ValueTask Done(ValueTask completed)
    {
        completed.GetAwaiter().GetResult();
        return default;
    }

    // Runs the striped requests once; whatever goes wrong comes back in the task, for FinishAsync to sort.
    private ValueTask Attempt(in Transfer transfer, CancellationToken cancellationToken)
    {
        try
        {
            ThrowIfLost(null);
            var groups = Volatile.Read(ref _groups);
            return transfer.Scattered.IsEmpty
                ? StripedIO.RunAsync(_client.Transport, groups, StripeSize, transfer.Write, transfer.Offset, transfer.Local, transfer.Length, cancellationToken)
                : StripedIO.RunAsync(_client.Transport, groups, StripeSize, transfer.Write, transfer.Scattered.Span, cancellationToken);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }
    }

    /// <summary>Waits for an attempt, and after a recoverable failure renews and tries again until the data timeout.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FinishAsync(ValueTask pending, MemoryHandle pin, Transfer transfer, long started, CancellationToken cancellationToken)
    {
        using var _ = pin;
        long deadline = started + (long)_client.Options.DataTimeout.TotalMilliseconds;
        while (true)
        {
            Exception? failure;
            try
            {
                await pending.ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (Errors.IsConnectionFailure(ex))
            {
                failure = ex;
            }
            catch (WireException ex) when (ex.Code is ErrorCode.CapabilityExpired or ErrorCode.CapabilityRevoked or ErrorCode.SegmentMoving)
            {
                // The lease may have been renewed, moved (a donor drained) or lost since this request's
                // capability was read: ask the manager for its current grant, then retry.
                failure = ex;
            }
            catch (WireException ex)
            {
                throw Errors.FromWire(ex, LeaseId);
            }

            await RecoverAsync(failure, deadline, cancellationToken).ConfigureAwait(false);
            pending = Attempt(transfer, cancellationToken);
        }
    }

    /// <summary>
    /// After a failed request: asks the manager whether the lease still stands. Lost: throws
    /// <see cref="LeaseLostException"/>. Standing: waits briefly so the caller retries (one-sided reads
    /// and writes are idempotent), until the data timeout, then throws <see cref="DonorUnreachableException"/>.
    /// </summary>
    private async Task RecoverAsync(Exception failure, long deadline, CancellationToken cancellationToken)
    {
        try
        {
            UpdateGrant(await _client.RenewAsync(this, cancellationToken).ConfigureAwait(false));
        }
        catch (LeaseLostException ex)
        {
            MarkLost(ex.Message);
            ThrowIfLost(failure);
        }
        catch (ManagerUnreachableException)
        {
            // The manager cannot tell us; keep trying the donor until the deadline.
        }

        if (failure is WireException { Code: ErrorCode.CapabilityRevoked or ErrorCode.SegmentMoving } && Environment.TickCount64 > deadline)
            throw Errors.FromWire((WireException)failure, LeaseId);
        if (Environment.TickCount64 > deadline)
        {
            var endpoint = (failure as ConnectionFailedException)?.Endpoint ?? "a donor";
            throw new DonorUnreachableException(endpoint,
                $"Lease {LeaseId}: {endpoint} did not answer for {_client.Options.DataTimeout.TotalSeconds:0.#} s and the manager still lists it: {failure.Message}", failure);
        }

        // A moving segment comes back within a copy's time: poll it a little faster than a dead donor.
        await Task.Delay(failure is WireException { Code: ErrorCode.SegmentMoving } ? 20 : 100, cancellationToken).ConfigureAwait(false);
    }

    internal void ThrowIfLost(Exception? inner = null)
    {
        var reason = Volatile.Read(ref _lostReason);
        if (reason is not null) throw new LeaseLostException(LeaseId, $"Lease {LeaseId} is lost: {reason}", inner);
    }

    internal void UpdateGrant(LeaseGrant grant)
    {
        Volatile.Write(ref _groups, ToGroups(grant));
        Interlocked.Exchange(ref _expiresUnixMs, grant.ExpiresUnixMs);
    }

    internal void MarkLost(string reason) => Interlocked.CompareExchange(ref _lostReason, reason, null);

    private static SegmentTarget[][] ToGroups(LeaseGrant grant) =>
        grant.Segments.GroupBy(s => s.Group).OrderBy(g => g.Key)
            .Select(g => g.Select(s => new SegmentTarget(s.DataEndpoint, s.Capability, s.Fabric)).ToArray()).ToArray();

    /// <summary>Releases the lease: the donors zero the memory and may lease it to others.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            await _client.ReleaseAsync(this).ConfigureAwait(false);
        }
        catch (RemoteMemException)
        {
            // The manager is unreachable: the lease lapses at expiry instead.
        }
    }
}
