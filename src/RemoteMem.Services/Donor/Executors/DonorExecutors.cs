using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using RemoteMem.Executor;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Services.Donor.Executors;

/// <summary>
/// The donor's executor manager: checks a client's signed ticket, starts one executor process per
/// function lease with the package and the near-data segments it may use, ends it on stop or expiry,
/// and tells the manager when it has ended so the cores are free again.
/// </summary>
internal sealed class DonorExecutors : IAsyncDisposable
{
    private readonly DonorOptions _options;
    private readonly DonorCore _core;
    private readonly CapabilityAuthority _authority;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ulong, ExecutorProcess> _running = new();
    // Completed once the manager has been told that the lease's executor ended (or telling it failed).
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource> _reported = new();
    private readonly ConcurrentDictionary<ulong, byte> _starting = new();
    private readonly ConcurrentDictionary<ulong, ulong[]> _nearData = new();

    public DonorExecutors(DonorOptions options, DonorCore core, CapabilityAuthority authority, ILogger logger)
    {
        _options = options;
        _core = core;
        _authority = authority;
        _logger = logger;
        Packages = new PackageStore(options.PackageDirectory ?? Path.Combine(Path.GetTempPath(), $"remotemem-packages-{Environment.UserName}"));
        core.SegmentFreeing += StopExecutorsOn;
    }

    /// <summary>
    /// A segment some executors map for near-data work is being freed (released, expired, or moved away by
    /// a drain): those executors are killed before the pages can be zeroed and handed to another tenant.
    /// Their clients see <c>ExecutorLost</c>.
    /// </summary>
    private void StopExecutorsOn(ulong segmentId)
    {
        foreach (var (leaseId, segments) in _nearData)
        {
            if (Array.IndexOf(segments, segmentId) < 0 || !_running.TryGetValue(leaseId, out var process)) continue;
            DonorLog.ExecutorEnded(_logger, leaseId, $"its near-data segment {segmentId} is being freed; killing it");
            process.KillAndWait(TimeSpan.FromSeconds(5));
        }
    }

    public PackageStore Packages { get; }

    /// <summary>Called (off any lock) when an executor has ended: the donor reports it to the manager.</summary>
    public Func<ExecutorEnded, Task>? Ended { get; set; }

    public void Upload(PackageUpload chunk)
    {
        if (Packages.Upload(chunk) && chunk.Offset + (ulong)chunk.Chunk.Length == chunk.TotalLength)
            DonorLog.PackageStored(_logger, Convert.ToHexString(chunk.Hash)[..16].ToLowerInvariant(), Packages.Folder);
    }

    public async Task<ExecutorStarted> StartAsync(ExecutorStart request, string advertisedHost, string listenHost)
    {
        var ticket = Verify(request.Ticket);
        if (!Packages.Has(request.PackageHash))
            throw new WireException(ErrorCode.PackageMissing, "This donor does not hold the package: upload it (PackageUpload) before starting the executor.");
        if (request.HotTimeoutMs < -1)
            throw new WireException(ErrorCode.InvalidArgument, $"Hot timeout {request.HotTimeoutMs} ms: use -1 (always hot), 0 (always warm) or a positive number of milliseconds.");
        var segments = request.NearData.Select(g =>
        {
            var (offset, length) = _core.AuthorizeNearData(g.Capability);
            if (g.Columns == 0 || g.Column >= g.Columns || g.StripeSize == 0)
                throw new WireException(ErrorCode.InvalidArgument, $"Near-data segment {g.Capability.SegmentId}: column {g.Column} of {g.Columns} with stripes of {g.StripeSize} bytes is not a layout.");
            return new ExecutorBootstrap.Segment(g.Capability.LeaseId, (int)g.Column, (int)g.Columns, (int)g.StripeSize, (long)g.AllocationLength, offset, length);
        }).ToList();
        if (segments.Count > 0 && _core.PoolFd < 0)
            throw new WireException(ErrorCode.NotPermitted, "This donor's pool is not shareable (no memfd), so it cannot run near-data functions.");
        if (!_starting.TryAdd(ticket.LeaseId, 0) || _running.ContainsKey(ticket.LeaseId))
            throw new WireException(ErrorCode.NameExists, $"The executor of lease {ticket.LeaseId} is already started.");

        try
        {
            var key = _authority.ExecutorKey(request.Ticket);
            var command = new List<string>(ExecutorCommand())
            {
                "--lease-id", ticket.LeaseId.ToString(CultureInfo.InvariantCulture),
                "--cores", ticket.Cores.ToString(CultureInfo.InvariantCulture),
                "--gpus", ticket.Gpus.ToString(CultureInfo.InvariantCulture),
                "--package", Packages.PathOf(request.PackageHash),
                "--listen", $"{listenHost}:0",
                "--advertise", advertisedHost,
                "--hot-timeout", request.HotTimeoutMs.ToString(CultureInfo.InvariantCulture),
            };
            if (segments.Count > 0)
                command.AddRange(["--pool-fd", _core.PoolFd.ToString(CultureInfo.InvariantCulture), "--pool-length", _core.Pool.Length.ToString(CultureInfo.InvariantCulture)]);
            var environment = new Dictionary<string, string>
            {
                // The runtime sizes its thread pool and GC to the lease, not the node.
                ["DOTNET_PROCESSOR_COUNT"] = ticket.Cores.ToString(CultureInfo.InvariantCulture),
                ["DOTNET_gcServer"] = "0",
            };
            if (ticket.MemoryLimitBytes > 0)
                environment["DOTNET_GCHeapHardLimit"] = "0x" + ticket.MemoryLimitBytes.ToString("x", CultureInfo.InvariantCulture);

            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            ExecutorProcess process;
            string endpoint;
            uint loadMs;
            try
            {
                (process, endpoint, loadMs) = await ExecutorProcess.StartAsync(ticket.LeaseId, command, environment,
                    new ExecutorBootstrap(key, segments).Encode(), _options.ExecutorStartTimeout, _logger).ConfigureAwait(false);
            }
            catch (ExecutorStartException ex)
            {
                throw new WireException(ErrorCode.PackageInvalid, $"The executor cannot load the package: {ex.Message}");
            }
            catch (InvalidOperationException ex)
            {
                throw new WireException(ErrorCode.InternalError, ex.Message);
            }

            var spawnMs = (uint)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var segmentIds = request.NearData.Select(g => g.Capability.SegmentId).ToArray();
            _nearData[ticket.LeaseId] = segmentIds;
            _reported[ticket.LeaseId] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _running[ticket.LeaseId] = process;
            // A segment freed while the executor started was not seen by StopExecutorsOn: check again.
            if (segmentIds.Any(id => _core.Find(id) is null))
            {
                process.Kill();
                _ = WatchAsync(process, ticket);
                throw new WireException(ErrorCode.CapabilityRevoked, "A near-data segment was freed while the executor started.");
            }

            DonorLog.ExecutorStarted(_logger, ticket.LeaseId, process.ProcessId, ticket.Cores, ticket.Gpus, endpoint);
            _ = WatchAsync(process, ticket);
            return new ExecutorStarted(endpoint, spawnMs, loadMs);
        }
        finally
        {
            _starting.TryRemove(ticket.LeaseId, out _);
        }
    }

    public async Task StopAsync(byte[] signedTicket)
    {
        var ticket = Verify(signedTicket, allowExpired: true);
        if (_running.TryGetValue(ticket.LeaseId, out var process))
        {
            await process.StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            // Answer once the manager counts the cores free again, so a client that leases again right
            // after its stop is answered does not find them still taken.
            if (_reported.TryGetValue(ticket.LeaseId, out var reported))
                await Task.WhenAny(reported.Task, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
            return;
        }

        // Never started (the client gave up, or the start failed): the manager still counts the cores.
        if (!_starting.ContainsKey(ticket.LeaseId) && Ended is { } report)
            await ReportAsync(report, new ExecutorEnded(_core.DonorId, ticket.LeaseId, "stopped before it started")).ConfigureAwait(false);
    }

    // Ends the lease at its expiry, and reports the process's end (however it came) to the manager.
    private async Task WatchAsync(ExecutorProcess process, ExecutorTicket ticket)
    {
        var remaining = DateTimeOffset.FromUnixTimeMilliseconds(ticket.ExpiresUnixMs) - DateTimeOffset.UtcNow;
        var exited = process.Exited;
        if (await Task.WhenAny(exited, Task.Delay(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero)).ConfigureAwait(false) != exited)
            await process.StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        int code = await exited.ConfigureAwait(false);
        _running.TryRemove(ticket.LeaseId, out _);
        _nearData.TryRemove(ticket.LeaseId, out _);
        process.Dispose();
        var reason = code == 0 ? "executor exited" : $"executor exited with code {code} (crashed or killed)";
        DonorLog.ExecutorEnded(_logger, ticket.LeaseId, reason);
        if (Ended is { } report) await ReportAsync(report, new ExecutorEnded(_core.DonorId, ticket.LeaseId, reason)).ConfigureAwait(false);
        if (_reported.TryRemove(ticket.LeaseId, out var reported)) reported.TrySetResult();
    }

    private static async Task ReportAsync(Func<ExecutorEnded, Task> report, ExecutorEnded ended)
    {
        try
        {
            await report(ended).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Transport.ConnectionFailedException or WireException or IOException or OperationCanceledException)
        {
            // The manager also frees the lease's cores at its expiry.
        }
    }

    private ExecutorTicket Verify(byte[] signed, bool allowExpired = false)
    {
        var code = _authority.Verify(signed, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), out var ticket);
        if (code == ErrorCode.CapabilityInvalid)
            throw new WireException(code, "The executor ticket's signature does not verify: lease executors through the manager.");
        if (code == ErrorCode.CapabilityExpired && !allowExpired)
            throw new WireException(code, $"The executor ticket of lease {ticket.LeaseId} has expired.");
        if (ticket.DonorId != _core.DonorId)
            throw new WireException(ErrorCode.CapabilityInvalid, $"The executor ticket is for donor {ticket.DonorId}; this is donor {_core.DonorId}.");
        return ticket;
    }

    /// <summary>
    /// How to run `remotemem executor`: --executor-command when given; else the remotemem assembly next
    /// to this one, through the dotnet host that runs us (or its apphost).
    /// </summary>
    private IReadOnlyList<string> ExecutorCommand()
    {
        if (!string.IsNullOrWhiteSpace(_options.ExecutorCommand))
            return [.. _options.ExecutorCommand.Split(' ', StringSplitOptions.RemoveEmptyEntries), "executor"];
        var directory = AppContext.BaseDirectory;
        var dll = Path.Combine(directory, "remotemem.dll");
        var host = Environment.ProcessPath;
        if (File.Exists(dll) && host is not null && Path.GetFileNameWithoutExtension(host) == "dotnet")
            return [host, dll, "executor"];
        var apphost = Path.Combine(directory, "remotemem");
        if (File.Exists(apphost)) return [apphost, "executor"];
        if (File.Exists(dll)) return ["dotnet", dll, "executor"];
        throw new WireException(ErrorCode.NotPermitted, $"This donor cannot find `remotemem` in {directory} to start executors: set its --executor-command.");
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_running.Values.Select(p => p.StopAsync(TimeSpan.FromSeconds(2)))).ConfigureAwait(false);
    }
}
