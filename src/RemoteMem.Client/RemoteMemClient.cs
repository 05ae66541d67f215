using Microsoft.Extensions.Logging;
using System.Collections.Concurrent;
using RemoteMem.Client.Functions;
using RemoteMem.Client.Internal;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Client;

/// <summary>
/// A connection to a RemoteMem cluster: leases remote memory from its manager and moves data to and
/// from the donors that hold it. Create one per process, hold it and reuse it; it is thread-safe and
/// its connections are long-lived and shared by every allocation. It renews the leases of live
/// allocations in the background.
/// </summary>
public sealed class RemoteMemClient : IAsyncDisposable
{
    private readonly ControlChannel _control;
    private readonly ConcurrentDictionary<(ulong Lease, ulong Holder), RemoteAllocation> _allocations = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _renewLoop;
    private readonly ConcurrentDictionary<ExecutorLease, byte> _executors = new();
    private readonly ClusterSecret _secret;

    private RemoteMemClient(RemoteMemClientOptions options, ClusterSecret secret)
    {
        Options = options;
        _secret = secret;
        _control = new ControlChannel(options.Manager, secret, options);
        _control.LeaseLost += e =>
        {
            foreach (var allocation in _allocations.Values)
                if (allocation.LeaseId == e.LeaseId) allocation.MarkLost(e.Reason);
        };
        Transport = DataPlane.Open(options, secret);
        _renewLoop = RenewLoopAsync();
    }

    internal RemoteMemClientOptions Options { get; }

    internal ISegmentTransport Transport { get; }

    /// <summary>Connects to the manager (and fails fast if it cannot be reached or refuses the secret).</summary>
    public static async Task<RemoteMemClient> ConnectAsync(RemoteMemClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        Endpoints.Split(options.Manager);
        var client = new RemoteMemClient(options, options.ResolveSecret());
        try
        {
            await client.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Leases <paramref name="bytes"/> bytes of remote memory, striped over donors as
    /// <paramref name="options"/> asks. The memory reads as zeros until written. Dispose the allocation
    /// to give it back; an allocation that is dropped without disposal lapses when its lease expires.
    /// </summary>
    public async Task<RemoteAllocation> AllocateAsync(long bytes, AllocationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        options ??= new AllocationOptions();
        if (options.StripeCount is < 0 or > WireLimits.MaxSegmentsPerLease)
            throw new ArgumentOutOfRangeException(nameof(options), options.StripeCount, $"StripeCount must be between 0 (automatic) and {WireLimits.MaxSegmentsPerLease}.");
        if (options.StripeSize != 0 && (options.StripeSize < 4096 || (options.StripeSize & (options.StripeSize - 1)) != 0))
            throw new ArgumentOutOfRangeException(nameof(options), options.StripeSize, "StripeSize must be 0 (manager's default) or a power of two of at least 4096.");
        if (options.Replicas is < 1 or > 3)
            throw new ArgumentOutOfRangeException(nameof(options), options.Replicas, "Replicas must be 1, 2 or 3.");
        var request = new LeaseRequest((ulong)bytes, (ushort)options.StripeCount, (uint)options.StripeSize,
            (uint)(options.LeaseTtl?.TotalMilliseconds ?? 0), Rights.ReadWrite, (byte)options.Replicas,
            options.AllowSpill ? LeaseRequest.AllowSpill : (byte)0);
        var reply = await _control.CallAsync(Opcode.LeaseRequest, request.Encode(), idempotent: false, cancellationToken).ConfigureAwait(false);
        return Track(new RemoteAllocation(this, LeaseGrant.Decode(reply), options.AutoRenew, writable: true));
    }

    private RemoteAllocation Track(RemoteAllocation allocation)
    {
        _allocations[(allocation.LeaseId, allocation.HolderId)] = allocation;
        return allocation;
    }

    /// <summary>Publishes an allocation under <paramref name="name"/>, with metadata that <see cref="OpenAsync"/> hands to openers.</summary>
    internal Task PublishAsync(RemoteAllocation allocation, string name, byte[] metadata, CancellationToken cancellationToken) =>
        _control.CallAsync(Opcode.LeasePublish, new LeasePublish(allocation.LeaseId, allocation.HolderId, name, metadata).Encode(), idempotent: false, cancellationToken, allocation.LeaseId);

    /// <summary>Becomes a holder of the allocation published as <paramref name="name"/>; returns it and the publisher's metadata.</summary>
    internal async Task<(RemoteAllocation Allocation, byte[] Metadata)> OpenAsync(string name, bool writable, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var reply = await _control.CallAsync(Opcode.LeaseOpen, new LeaseOpen(name, writable ? Rights.ReadWrite : Rights.Read, 0).Encode(), idempotent: false, cancellationToken).ConfigureAwait(false);
        var opened = LeaseOpened.Decode(reply);
        return (Track(new RemoteAllocation(this, opened.Grant, autoRenew: true, writable)), opened.Metadata);
    }

    /// <summary>
    /// Creates an array of <paramref name="length"/> elements in remote memory (zero-filled), cached
    /// locally as <paramref name="options"/> says. The array may be many times larger than its cache.
    /// </summary>
    public async Task<RemoteArray<T>> CreateArrayAsync<T>(long length, RemoteArrayOptions? options = null, CancellationToken cancellationToken = default)
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        options ??= new RemoteArrayOptions();
        options.Validate();
        long bytes = checked(length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        var allocation = await AllocateAsync(bytes, new AllocationOptions { StripeCount = options.StripeCount, StripeSize = options.StripeSize, Replicas = options.Replicas, AllowSpill = options.AllowSpill }, cancellationToken).ConfigureAwait(false);
        return NewArray<T>(allocation, length, options);
    }

    /// <summary>
    /// Opens an array another process published with <see cref="RemoteArray{T}.PublishAsync"/>, read-only
    /// unless <paramref name="writable"/>. It sees what the publisher flushed before this call; call
    /// <see cref="RemoteArray{T}.RefreshAsync"/> to see later flushes. The element type must have the
    /// size the publisher used.
    /// </summary>
    public async Task<RemoteArray<T>> OpenArrayAsync<T>(string name, bool writable = false, RemoteArrayOptions? options = null, CancellationToken cancellationToken = default)
        where T : unmanaged
    {
        options ??= new RemoteArrayOptions();
        options.Validate();
        var (allocation, metadata) = await OpenAsync(name, writable, cancellationToken).ConfigureAwait(false);
        try
        {
            return NewArray<T>(allocation, ArrayMetadata.Decode<T>(name, metadata), options);
        }
        catch
        {
            await allocation.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private RemoteArray<T> NewArray<T>(RemoteAllocation allocation, long length, RemoteArrayOptions options) where T : unmanaged
    {
        var cache = new Arrays.Internal.PageCache(allocation, options.PageSize, options.CacheBytes, options.ReadAheadPages, Options.DataTimeout, options.DirectTransferBytes);
        return new RemoteArray<T>(this, allocation, cache, length, options.DirectReadAheadBytes);
    }

    /// <summary>Creates an empty key-value store whose records live in remote memory.</summary>
    public Task<RemoteKv> CreateKvAsync(RemoteKvOptions? options = null, CancellationToken cancellationToken = default) =>
        RemoteKv.CreateAsync(this, options ?? new RemoteKvOptions(), cancellationToken);

    /// <summary>The cluster as the manager sees it: donors and leases.</summary>
    public async Task<StatusReport> GetStatusAsync(CancellationToken cancellationToken = default) =>
        StatusReport.Decode(await _control.CallAsync(Opcode.Status, [], idempotent: true, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Leases an executor: a process on a donor with <see cref="ExecutorLeaseOptions.Cores"/> worker cores
    /// running the options' package (uploaded to that donor once, then reused by hash). Invoke its
    /// functions with <see cref="ExecutorLease.InvokeAsync(string, ReadOnlyMemory{byte}, TimeSpan?, CancellationToken)"/>;
    /// dispose it to give the cores back.
    /// </summary>
    public async Task<ExecutorLease> LeaseExecutorAsync(ExecutorLeaseOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var lease = await ExecutorLease.StartAsync(this, _control, _secret, Options.Transport(Options.ControlTimeout), options, cancellationToken).ConfigureAwait(false);
        _executors[lease] = 0;
        return lease;
    }

    /// <summary>
    /// Leases <paramref name="count"/> executors at once (the manager spreads them over donors with free
    /// cores) for fan-out; see <see cref="ExecutorGroup"/>.
    /// </summary>
    public async Task<ExecutorGroup> LeaseExecutorsAsync(int count, ExecutorLeaseOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var starts = Enumerable.Range(0, count).Select(_ => LeaseExecutorAsync(options, cancellationToken)).ToList();
        try
        {
            return new ExecutorGroup(await Task.WhenAll(starts).ConfigureAwait(false));
        }
        catch
        {
            foreach (var start in starts.Where(s => s.IsCompletedSuccessfully)) await start.Result.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    internal void Forget(ExecutorLease lease) => _executors.TryRemove(lease, out _);

    /// <summary>
    /// Operators: asks donor <paramref name="donorId"/> (an id from <see cref="GetStatusAsync"/>) to drain
    /// and leave, as SIGTERM would: its segments move to other donors, then it exits. Returns once the
    /// donor has accepted; watch <see cref="GetStatusAsync"/> for it to leave.
    /// </summary>
    public async Task DrainDonorAsync(ulong donorId, CancellationToken cancellationToken = default) =>
        await _control.CallAsync(Opcode.DrainDonor, new DrainDonor(donorId).Encode(), idempotent: false, cancellationToken).ConfigureAwait(false);

    internal async Task<LeaseGrant> RenewAsync(RemoteAllocation allocation, CancellationToken cancellationToken)
    {
        var request = new LeaseHolder(allocation.LeaseId, allocation.HolderId).Encode();
        return LeaseGrant.Decode(await _control.CallAsync(Opcode.LeaseRenew, request, idempotent: true, cancellationToken, allocation.LeaseId).ConfigureAwait(false));
    }

    internal async Task ReleaseAsync(RemoteAllocation allocation)
    {
        _allocations.TryRemove((allocation.LeaseId, allocation.HolderId), out _);
        try
        {
            await _control.CallAsync(Opcode.LeaseRelease, new LeaseHolder(allocation.LeaseId, allocation.HolderId).Encode(), idempotent: true, CancellationToken.None, allocation.LeaseId).ConfigureAwait(false);
        }
        catch (LeaseLostException)
        {
            // Already gone (expired, or a retried release whose first attempt landed).
        }
    }

    private async Task RenewLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                foreach (var allocation in _allocations.Values)
                {
                    if (!allocation.AutoRenew || allocation.IsLost || now < allocation.RenewDueUnixMs) continue;
                    try
                    {
                        allocation.UpdateGrant(await RenewAsync(allocation, _stopping.Token).ConfigureAwait(false));
                    }
                    catch (LeaseLostException ex)
                    {
                        allocation.MarkLost(ex.Message);
                        _allocations.TryRemove((allocation.LeaseId, allocation.HolderId), out _);
                    }
                    catch (RemoteMemException)
                    {
                        // Manager unreachable: try again on the next tick, until the lease expires.
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // Whatever went wrong with one renewal must not end renewals for every lease.
                        Options.Logger?.LogWarning(ex, "Renewing lease {LeaseId} failed; retrying", allocation.LeaseId);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops renewing (leases lapse at expiry unless their allocations were disposed) and closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        await _renewLoop.ConfigureAwait(false);
        foreach (var lease in _executors.Keys) await lease.DisposeAsync().ConfigureAwait(false);
        await Transport.DisposeAsync().ConfigureAwait(false);
        await _control.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
