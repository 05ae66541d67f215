using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using MemoryPack;
using RemoteMem.Client.Functions.Internal;
using RemoteMem.Client.Internal;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Client.Functions;

/// <summary>
/// A leased executor: a process on a donor with the lease's cores, running the lease's package, that
/// this client talks to directly (one connection per core). Thread-safe; many invocations may be in
/// flight. Dispose it to end the lease (the executor exits, the cores are free again).
/// </summary>
public sealed class ExecutorLease : IAsyncDisposable
{
    private readonly RemoteMemClient _client;
    private readonly FrameClient _donor;
    private readonly ExecutorGrant _grant;
    private readonly ExecutorConnection[] _connections;
    private readonly ConcurrentDictionary<string, uint> _functions = new(StringComparer.Ordinal);
    private readonly TimeSpan _defaultTimeout;
    private readonly LatencyRecorder _latency = new();
    private readonly Timer _overdue;
    private long _failed;
    private int _next;
    private int _disposed;

    private ExecutorLease(RemoteMemClient client, FrameClient donor, ExecutorGrant grant, ExecutorConnection[] connections, ExecutorLeaseOptions options, ExecutorColdStart coldStart, string endpoint)
    {
        _client = client;
        _donor = donor;
        _grant = grant;
        _connections = connections;
        _defaultTimeout = options.DefaultTimeout;
        ColdStart = coldStart;
        Endpoint = endpoint;
        Cores = options.Cores;
        _overdue = new Timer(static state => ((ExecutorLease)state!).ExpireOverdue(), this, 50, 50);
    }

    public ulong LeaseId => _grant.LeaseId;

    /// <summary>The donor the executor runs on.</summary>
    public ulong DonorId => _grant.DonorId;

    /// <summary>Where the executor listens.</summary>
    public string Endpoint { get; }

    public int Cores { get; }

    /// <summary>The key connections to the executor authenticate with (tests that speak the raw protocol).</summary>
    internal byte[] Key => _grant.Key;

    internal byte[] Ticket => _grant.Ticket;

    /// <summary>How the lease came up, phase by phase.</summary>
    public ExecutorColdStart ColdStart { get; }

    /// <summary>Invocations sent and not yet answered.</summary>
    public int InFlight => _connections.Sum(c => c.InFlight);

    internal static async Task<ExecutorLease> StartAsync(RemoteMemClient client, ControlChannel control, ClusterSecret secret, TransportOptions transport, ExecutorLeaseOptions options, CancellationToken cancellationToken)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        var preferred = options.PreferDonorId != 0 ? options.PreferDonorId : NearDataHome(options.NearData);
        var request = new ExecutorLeaseRequest((ushort)options.Cores, (ushort)options.Gpus, (ulong)options.MemoryLimitBytes, (uint)options.Duration.TotalMilliseconds, preferred);
        var grant = ExecutorGrant.Decode(await control.CallAsync(Opcode.ExecutorLease, request.Encode(), idempotent: false, cancellationToken).ConfigureAwait(false));
        var placement = clock.Elapsed;

        FrameClient? donor = null;
        var connections = new List<ExecutorConnection>();
        bool started = false;
        try
        {
            donor = await FrameClient.ConnectAsync(grant.DonorEndpoint, secret, PeerRole.Client, transport, null, cancellationToken).ConfigureAwait(false);
            clock.Restart();
            bool present = (await donor.CallAsync(Opcode.PackageQuery, new PackageQuery(options.Package.Hash).Encode(), cancellationToken).ConfigureAwait(false)) is [1];
            var check = clock.Elapsed;
            clock.Restart();
            long uploaded = present ? 0 : await UploadAsync(donor, options.Package, cancellationToken).ConfigureAwait(false);
            var upload = clock.Elapsed;

            clock.Restart();
            var nearData = NearDataGrants(options.NearData, grant.DonorId, options.NearDataColumns);
            var start = new ExecutorStart(grant.Ticket, options.Package.Hash, options.HotTimeoutMs, nearData);
            var reply = ExecutorStarted.Decode(await donor.CallAsync(Opcode.ExecutorStart, start.Encode(), cancellationToken).ConfigureAwait(false));
            started = true;
            var spawn = clock.Elapsed;

            clock.Restart();
            var key = ClusterSecret.FromBytes(grant.Key);
            for (int i = 0; i < options.Cores; i++)
                connections.Add(new ExecutorConnection(await FrameSocket.ConnectAsync(reply.Endpoint, key, PeerRole.Client, transport, cancellationToken).ConfigureAwait(false), grant.LeaseId, options.InlineCompletions, options.AnswerSpin));
            var connect = clock.Elapsed;

            var loadMs = TimeSpan.FromMilliseconds(reply.LoadMs);
            var processStart = spawn - loadMs > TimeSpan.Zero ? spawn - loadMs : TimeSpan.Zero;
            var coldStart = new ExecutorColdStart(placement, check, upload, uploaded, processStart, loadMs, connect);
            return new ExecutorLease(client, donor, grant, [.. connections], options, coldStart, reply.Endpoint);
        }
        catch (Exception ex)
        {
            foreach (var connection in connections) connection.Dispose();
            if (donor is not null)
            {
                // Give the cores back (the donor tells the manager), whether or not the executor started.
                try { await donor.CallAsync(Opcode.ExecutorStop, new ExecutorStop(grant.Ticket).Encode(), CancellationToken.None).ConfigureAwait(false); }
                catch (Exception stop) when (stop is WireException or ConnectionFailedException or IOException) { }
                await donor.DisposeAsync().ConfigureAwait(false);
            }

            if (ex is WireException wire) throw Errors.FromWire(wire);
            if (ex is ConnectionFailedException && !started)
                throw new RemoteMemException(ErrorCode.Timeout, $"Cannot reach the donor {grant.DonorEndpoint} to start the executor: {ex.Message}", ex);
            throw;
        }
    }

    private static async Task<long> UploadAsync(FrameClient donor, FunctionPackage package, CancellationToken cancellationToken)
    {
        int chunk = donor.MaxFrameSize - FrameHeader.Size - PackageUpload.HeaderSize;
        var bytes = package.Bytes;
        for (int offset = 0; offset < bytes.Length; offset += chunk)
        {
            var piece = bytes.AsMemory(offset, Math.Min(chunk, bytes.Length - offset));
            var upload = new PackageUpload(package.Hash, (ulong)bytes.Length, (ulong)offset, piece);
            await donor.CallAsync(Opcode.PackageUpload, upload.Encode(), cancellationToken).ConfigureAwait(false);
        }

        return bytes.Length;
    }

    // The donor holding most segments of the first near-data allocation.
    private static ulong NearDataHome(IReadOnlyList<RemoteAllocation> nearData) =>
        nearData.Count == 0 ? 0 : nearData[0].Groups.SelectMany(g => g).GroupBy(t => t.Capability.DonorId).OrderByDescending(g => g.Count()).First().Key;

    private static List<NearDataGrant> NearDataGrants(IReadOnlyList<RemoteAllocation> nearData, ulong donorId, IReadOnlySet<int>? columns)
    {
        var grants = new List<NearDataGrant>();
        foreach (var allocation in nearData)
        {
            var groups = allocation.Groups;
            for (int column = 0; column < groups.Length; column++)
            {
                if (columns is not null && !columns.Contains(column)) continue;
                // One replica per column is enough: the function must see each byte once.
                var local = groups[column].FirstOrDefault(t => t.Capability.DonorId == donorId);
                if (local is not null)
                    grants.Add(new NearDataGrant(local.Capability, (uint)column, (uint)groups.Length, (uint)allocation.StripeSize, (ulong)allocation.Length));
            }
        }

        return grants;
    }

    /// <summary>
    /// Invokes <paramref name="function"/> with <paramref name="input"/> and returns its output. Throws
    /// <see cref="FunctionFailedException"/> when the function threw, <see cref="FunctionTimeoutException"/>
    /// past the deadline (<paramref name="timeout"/>, else the lease's default), <see cref="ExecutorLostException"/>
    /// when the executor died, and <see cref="RemoteMemException"/> (NameNotFound) for an unknown name.
    /// </summary>
    public async ValueTask<byte[]> InvokeAsync(string function, ReadOnlyMemory<byte> input, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var (_, output) = await CallAsync(Opcode.Invoke, function, input, default, allocate: true, timeout, cancellationToken).ConfigureAwait(false);
        return output!;
    }

    /// <summary>
    /// Invokes <paramref name="function"/> and copies its output into <paramref name="output"/>, returning
    /// how many bytes it wrote: the allocation-free form of <see cref="InvokeAsync(string, ReadOnlyMemory{byte}, TimeSpan?, CancellationToken)"/>.
    /// An output larger than the buffer throws <see cref="ArgumentException"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> InvokeAsync(string function, ReadOnlyMemory<byte> input, Memory<byte> output, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var (length, _) = await CallAsync(Opcode.Invoke, function, input, output, allocate: false, timeout, cancellationToken).ConfigureAwait(false);
        return length;
    }

    /// <summary>Invokes a typed function (a <c>TypedFunction&lt;TIn, TOut&gt;</c>): arguments and result go through MemoryPack.</summary>
    public async ValueTask<TOut> InvokeAsync<TIn, TOut>(string function, TIn input, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var output = await InvokeAsync(function, MemoryPackSerializer.Serialize(input), timeout, cancellationToken).ConfigureAwait(false);
        return MemoryPackSerializer.Deserialize<TOut>(output)!;
    }

    /// <summary>What the lease has done so far (asks the executor for its hot/warm counts).</summary>
    public async Task<ExecutorLeaseStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default)
    {
        var (_, answer) = await CallAsync(Opcode.ExecutorStats, "statistics", default, default, allocate: true, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        var remote = ExecutorStatistics.Decode(answer);
        var (mean, p50, p99) = _latency.Summary();
        return new ExecutorLeaseStatistics(ColdStart, _latency.Count + Interlocked.Read(ref _failed), Interlocked.Read(ref _failed),
            remote.HotInvocations, remote.WarmInvocations, remote.DeadlinesExceeded, mean, p50, p99, remote.Accelerator);
    }

    /// <summary>
    /// One request: resolves the function's id (once per name), rents a slot on the least busy
    /// connection, sends, waits, and gives the slot back: the answer's length (copied to
    /// <paramref name="output"/>), or with <paramref name="allocate"/> the answer itself.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(int Length, byte[]? Answer)> CallAsync(
        Opcode opcode, string function, ReadOnlyMemory<byte> input, Memory<byte> output, bool allocate, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        int limit = _connections[0].MaxPayload;
        if (input.Length > limit)
            throw new ArgumentException($"An input of {input.Length} bytes exceeds the executor's limit of {limit} bytes per call; pass large data through remote memory (near-data) instead.", nameof(input));
        var deadline = timeout ?? _defaultTimeout;
        if (deadline <= TimeSpan.Zero || deadline.TotalMilliseconds > uint.MaxValue) throw new ArgumentOutOfRangeException(nameof(timeout), "The deadline must be positive.");
        uint id = 0;
        if (opcode == Opcode.Invoke)
            id = _functions.TryGetValue(function, out var known) ? known : await ResolveAsync(function, cancellationToken).ConfigureAwait(false);

        // Chosen after the name is resolved, so the choice sees the calls sent meanwhile.
        var connection = Pick();
        var call = await connection.RentAsync(cancellationToken).ConfigureAwait(false);
        long started = Stopwatch.GetTimestamp();
        ValueTask<int> pending;
        if (opcode == Opcode.Invoke)
        {
            Span<byte> prefix = stackalloc byte[InvokePrefix.Size];
            BinaryPrimitives.WriteUInt32LittleEndian(prefix, id);
            BinaryPrimitives.WriteUInt32LittleEndian(prefix[4..], (uint)deadline.TotalMilliseconds);
            pending = connection.Send(call, opcode, function, prefix, input.Span, started + Grace(deadline), output, allocate);
        }
        else
        {
            pending = connection.Send(call, opcode, function, default, input.Span, started + Grace(deadline), output, allocate);
        }

        var registration = cancellationToken.CanBeCanceled ? CancelOn(cancellationToken, connection, call) : default;
        try
        {
            int length = await pending.ConfigureAwait(false);
            if (opcode == Opcode.Invoke) _latency.Record(Stopwatch.GetTimestamp() - started);
            return (length, call.Result);
        }
        catch
        {
            if (opcode == Opcode.Invoke) Interlocked.Increment(ref _failed);
            throw;
        }
        finally
        {
            // The cancellation callback must be gone before the slot can carry another call.
            await registration.DisposeAsync().ConfigureAwait(false);
            connection.Return(call);
        }
    }

    // A method of its own: a lambda in CallAsync would allocate its closure on every call, cancellable or not.
    private static CancellationTokenRegistration CancelOn(CancellationToken cancellationToken, ExecutorConnection connection, PendingCall call)
    {
        ulong requestId = call.ArmedId;
        return cancellationToken.UnsafeRegister(_ => connection.Cancel(call, requestId), null);
    }

    private async Task<uint> ResolveAsync(string function, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(function);
        var (_, answer) = await CallAsync(Opcode.FunctionResolve, function, Encoding.UTF8.GetBytes(function), default, allocate: true, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        uint id = BinaryPrimitives.ReadUInt32LittleEndian(answer);
        _functions[function] = id;
        return id;
    }

    // The connection with the fewest calls in flight (ties: round robin), skipping lost ones.
    private ExecutorConnection Pick()
    {
        int start = (int)((uint)Interlocked.Increment(ref _next) % (uint)_connections.Length);
        ExecutorConnection best = _connections[start];
        for (int i = 1; i < _connections.Length; i++)
        {
            var candidate = _connections[(start + i) % _connections.Length];
            if (candidate.IsLost) continue;
            if (best.IsLost || candidate.InFlight < best.InFlight) best = candidate;
        }

        return best;
    }

    // The executor answers at the deadline; the client gives it a little longer before it stops waiting.
    private static long Grace(TimeSpan deadline) =>
        (long)((deadline.TotalSeconds + Math.Min(5, 0.5 + deadline.TotalSeconds / 10)) * Stopwatch.Frequency);

    private void ExpireOverdue()
    {
        long now = Stopwatch.GetTimestamp();
        foreach (var connection in _connections) connection.ExpireOverdue(now);
    }

    /// <summary>Closes the connections without telling the donor, exactly as a client that crashed would (tests).</summary>
    internal void DropConnections()
    {
        foreach (var connection in _connections) connection.Dispose();
    }

    /// <summary>Ends the lease: closes the connections (the executor exits) and tells the donor, which frees the cores.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _overdue.DisposeAsync().ConfigureAwait(false);
        foreach (var connection in _connections) connection.Dispose();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _donor.CallAsync(Opcode.ExecutorStop, new ExecutorStop(_grant.Ticket).Encode(), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WireException or ConnectionFailedException or OperationCanceledException or IOException)
        {
            // The executor exits anyway once its connections are closed.
        }

        await _donor.DisposeAsync().ConfigureAwait(false);
        _client.Forget(this);
    }
}
