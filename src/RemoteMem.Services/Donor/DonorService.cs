using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RemoteMem.Fabric;
using RemoteMem.Services.Donor.Executors;
using RemoteMem.Services.Donor.Internal;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Services.Donor;

/// <summary>
/// The donor as a hosted service: serves its pool, registers with the manager and heartbeats. On stop
/// (SIGTERM/SIGINT) it finishes the requests it has received whole, tells the manager it is leaving,
/// and closes; requests not yet received fail on the client with a connection error.
/// </summary>
public sealed class DonorService : BackgroundService
{
    private readonly DonorOptions _options;
    private readonly ClusterSecret _secret;
    private readonly TransportOptions _transport;
    private readonly ILogger<DonorService> _logger;
    private readonly DonorCore _core;
    private readonly FrameServer _server;
    private readonly TcpSegmentTransport _peers;
    private readonly DonorExecutors _executors;
    private FabricPoolExport? _fabric;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _job;
    private FrameClient? _manager;
    private string _managerEndpoint = "";
    private volatile bool _leaving;
    private readonly TaskCompletionSource _deregistered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DonorService(IOptions<DonorOptions> options, IOptions<ClusterOptions> cluster, ILogger<DonorService> logger, TransportOptions? transport = null, IHostApplicationLifetime? lifetime = null)
    {
        _options = options.Value;
        _secret = cluster.Value.ResolveSecret();
        _transport = transport ?? new TransportOptions();
        _job = _options.Job ?? BatchJob.FromEnvironment();
        _logger = logger;
        _core = new DonorCore(_options.MemoryBytes, new CapabilityAuthority(_secret), logger);
        // The donor's own client side, for copying segments to other donors during a drain.
        _peers = new TcpSegmentTransport(_secret, _transport, logger);
        // Asked to leave (remotemem donor drain): stop the host as SIGTERM does, off the connection's loop.
        Func<bool> leave = lifetime is null ? () => false : () =>
        {
            _ = Task.Run(lifetime.StopApplication);
            return true;
        };
        _executors = new DonorExecutors(_options, _core, new CapabilityAuthority(_secret), logger) { Ended = ReportExecutorEndedAsync };
        _server = new FrameServer(new DonorFrameHandler(_core, _peers, _executors, ExecutorHosts, leave, logger), _secret, _transport, logger, threadPerConnection: true);
    }

    public DonorCore Core => _core;

    // Executors listen on the donor's interface and are advertised under the donor's host name.
    private (string Advertised, string Listen) ExecutorHosts()
    {
        var (advertised, _) = Endpoints.Split(AdvertisedEndpoint);
        var (listen, _) = Endpoints.Split(_options.Listen);
        return (advertised, listen);
    }

    private async Task ReportExecutorEndedAsync(ExecutorEnded ended)
    {
        if (_manager is { } manager) await manager.CallAsync(Opcode.ExecutorEnded, ended.Encode());
    }

    /// <summary>Completes with the advertised endpoint once the donor is registered.</summary>
    public Task<string> Ready => _ready.Task;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var bound = _server.Start(_options.Listen);
        AdvertisedEndpoint = _options.Advertise ?? Advertise(bound);
        if (_options.DataTransport == "fabric") _fabric = OpenFabric(bound);
        DonorLog.Listening(_logger, ByteSize.Format(_core.OfferedBytes), AdvertisedEndpoint);
        return base.StartAsync(cancellationToken);
    }

    public string AdvertisedEndpoint { get; private set; } = "";

    /// <summary>
    /// Opens the fabric and registers the whole pool once. Asked for explicitly, so failure stops the
    /// donor with the reason (a missing library, an unknown provider, a locked-memory limit).
    /// </summary>
    private FabricPoolExport OpenFabric(IPEndPoint bound)
    {
        var probe = FabricSupport.Probe(_options.FabricProvider);
        if (!probe.IsSupported)
            throw new InvalidOperationException($"Donor:DataTransport is fabric, but {_options.FabricProvider} cannot run here: {probe.Message}");
        var (pool, length) = _core.Pool;
        FabricPoolExport export;
        try
        {
            export = FabricPoolExport.Open(new FabricTransportOptions
        {
            Provider = _options.FabricProvider,
            // Bind where the TCP side listens; a wildcard listen lets the provider choose the interface.
            LocalAddress = bound.Address.Equals(IPAddress.Any) || bound.Address.Equals(IPAddress.IPv6Any) ? null : bound.Address.ToString(),
            ProgressMode = _options.FabricProgress == "spinning" ? FabricProgressMode.Spinning : FabricProgressMode.Blocking,
            }, pool, length, _logger);
        }
        catch (FabricException ex)
        {
            throw new InvalidOperationException($"Donor:DataTransport is fabric, but opening {_options.FabricProvider} failed: {ex.Message}", ex);
        }

        DonorLog.FabricOpen(_logger, export.Address.Provider, ByteSize.Format(length));
        return export;
    }

    private static string Advertise(IPEndPoint bound) =>
        bound.Address.Equals(IPAddress.Any) || bound.Address.Equals(IPAddress.IPv6Any)
            ? $"{Dns.GetHostName()}:{bound.Port}"
            : Endpoints.Format(bound);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested && !_leaving)
        {
            try
            {
                _managerEndpoint = await ManagerAddress.ResolveAsync(_options, stoppingToken);
                await using var manager = await FrameClient.ConnectAsync(_managerEndpoint, _secret, PeerRole.Donor, _transport, _logger, stoppingToken);
                _manager = manager;
                try
                {
                    var interval = await RegisterAsync(manager, stoppingToken);
                    delay = TimeSpan.FromMilliseconds(250);
                    while (!stoppingToken.IsCancellationRequested && !_leaving)
                    {
                        await Task.Delay(interval, stoppingToken);
                        var beat = new DonorHeartbeat(_core.DonorId, (ulong)_core.LeasedBytes, (ulong)_core.FreeBytes, (ulong)Environment.WorkingSet, (uint)_core.SegmentCount);
                        try
                        {
                            await manager.CallAsync(Opcode.DonorHeartbeat, beat.Encode(), stoppingToken);
                        }
                        catch (WireException ex) when (ex.Code == ErrorCode.UnknownDonor && !_leaving)
                        {
                            // The manager declared us dead (or restarted): register again.
                            interval = await RegisterAsync(manager, stoppingToken);
                        }
                    }
                }
                finally
                {
                    // StopAsync deregisters over this connection: closing it under that call would leave
                    // the manager to find the donor gone and declare it dead instead of departed.
                    if (_leaving) await _deregistered.Task;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (TimeoutException ex)
            {
                // No manager address ever appeared: nothing to serve. The host stops and the process exits non-zero.
                DonorLog.NoManager(_logger, ex.Message);
                _ready.TrySetException(ex);
                Environment.ExitCode = 2;
                throw;
            }
            catch (WireException) when (_leaving)
            {
                // A heartbeat raced with our own deregistration: we are leaving anyway.
                return;
            }
            catch (Exception ex) when (ex is ConnectionFailedException or WireException or IOException)
            {
                _manager = null;
                DonorLog.ManagerUnreachable(_logger, _managerEndpoint, ex.Message);
                try { await Task.Delay(delay, stoppingToken); } catch (OperationCanceledException) { return; }
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
        }
    }

    private async Task<TimeSpan> RegisterAsync(FrameClient manager, CancellationToken cancellationToken)
    {
        var name = _options.Name ?? AdvertisedEndpoint;
        var node = _options.Node ?? BatchJob.NodeName() ?? Dns.GetHostName();
        int cores = _options.Cores > 0 ? _options.Cores : Environment.ProcessorCount;
        var request = new DonorRegister(_core.DonorId, name, node, AdvertisedEndpoint, (ulong)_core.OfferedBytes, (ushort)cores, (ushort)_options.Gpus, _job, _fabric?.Address);
        var reply = DonorRegisterReply.Decode(await manager.CallAsync(Opcode.DonorRegister, request.Encode(), cancellationToken));
        if (_core.DonorId != 0 && reply.DonorId != _core.DonorId)
        {
            // The manager no longer knows our segments (it declared them lost): drop them so the memory is free again.
            _core.FreeAll();
        }

        _core.DonorId = reply.DonorId;
        DonorLog.Registered(_logger, _managerEndpoint, reply.DonorId);
        _ready.TrySetResult(AdvertisedEndpoint);
        return TimeSpan.FromMilliseconds(Math.Max(50, reply.HeartbeatIntervalMs));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        DonorLog.Stopping(_logger);
        // Drain first, while the registration loop still heartbeats over the same connection (a
        // silent donor would be declared dead mid-drain).
        var manager = _manager;
        if (manager is not null && _core.DonorId != 0) await DrainAsync(manager);

        // From here on the registration loop must not re-register: the manager is told we leave.
        _leaving = true;
        try
        {
            if (manager is not null && _core.DonorId != 0)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await manager.CallAsync(Opcode.DonorDeregister, new DonorDeregister(_core.DonorId, StopReason).Encode(), timeout.Token);
            }
        }
        catch (Exception ex) when (ex is ConnectionFailedException or WireException or OperationCanceledException or IOException)
        {
            // The manager will time us out instead.
        }
        finally
        {
            _deregistered.TrySetResult();
        }

        await _executors.DisposeAsync();
        await _server.StopAsync(_options.StopGrace);
        await base.StopAsync(cancellationToken);
    }

    /// <summary>
    /// Asks the manager to move this donor's segments elsewhere, serving reads (and the copies) until it
    /// answers or the grace runs out. Whatever has not moved by then is lost when the donor deregisters.
    /// </summary>
    private async Task DrainAsync(FrameClient manager)
    {
        if (_options.DrainGrace <= TimeSpan.Zero || _core.SegmentCount == 0) return;
        try
        {
            // A little longer than the grace the manager gets, so its answer (with the counts) still arrives.
            using var timeout = new CancellationTokenSource(_options.DrainGrace + TimeSpan.FromSeconds(2));
            var request = new DonorDrain(_core.DonorId, (uint)_options.DrainGrace.TotalMilliseconds);
            var reply = DonorDrainReply.Decode(await manager.CallAsync(Opcode.DonorDrain, request.Encode(), timeout.Token));
            DonorLog.Drained(_logger, reply.Moved, reply.Lost);
        }
        catch (Exception ex) when (ex is ConnectionFailedException or WireException or OperationCanceledException or IOException)
        {
            DonorLog.DrainFailed(_logger, ex.Message);
        }
    }

    /// <summary>What lease holders are told: for a donor in a batch job, which job ended (e.g. Slurm preempted or cancelled it).</summary>
    private string StopReason => _job.Length == 0 ? "donor stopped" : $"donor stopped (its batch job {_job} is ending)";

    public override void Dispose()
    {
        _peers.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _fabric?.Dispose();
        _core.Dispose();
        base.Dispose();
    }
}
