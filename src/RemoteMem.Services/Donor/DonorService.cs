using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _job;
    private FrameClient? _manager;
    private string _managerEndpoint = "";
    private volatile bool _leaving;

    public DonorService(IOptions<DonorOptions> options, IOptions<ClusterOptions> cluster, ILogger<DonorService> logger, TransportOptions? transport = null)
    {
        _options = options.Value;
        _secret = cluster.Value.ResolveSecret();
        _transport = transport ?? new TransportOptions();
        _job = _options.Job ?? BatchJob.FromEnvironment();
        _logger = logger;
        _core = new DonorCore(_options.MemoryBytes, new CapabilityAuthority(_secret), logger);
        _server = new FrameServer(new DonorFrameHandler(_core, logger), _secret, _transport, logger);
    }

    public DonorCore Core => _core;

    /// <summary>Completes with the advertised endpoint once the donor is registered.</summary>
    public Task<string> Ready => _ready.Task;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var bound = _server.Start(_options.Listen);
        AdvertisedEndpoint = _options.Advertise ?? Advertise(bound);
        DonorLog.Listening(_logger, ByteSize.Format(_core.OfferedBytes), AdvertisedEndpoint);
        return base.StartAsync(cancellationToken);
    }

    public string AdvertisedEndpoint { get; private set; } = "";

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
        var request = new DonorRegister(_core.DonorId, name, node, AdvertisedEndpoint, (ulong)_core.OfferedBytes, (ushort)cores, (ushort)_options.Gpus, _job);
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
        // From here on the registration loop must not re-register: the manager is told we leave.
        _leaving = true;
        var manager = _manager;
        if (manager is not null && _core.DonorId != 0)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await manager.CallAsync(Opcode.DonorDeregister, new DonorDeregister(_core.DonorId, StopReason).Encode(), timeout.Token);
            }
            catch (Exception ex) when (ex is ConnectionFailedException or WireException or OperationCanceledException or IOException)
            {
                // The manager will time us out instead.
            }
        }

        await _server.StopAsync(_options.StopGrace);
        await base.StopAsync(cancellationToken);
    }

    /// <summary>What lease holders are told: for a donor in a batch job, which job ended (e.g. Slurm preempted or cancelled it).</summary>
    private string StopReason => _job.Length == 0 ? "donor stopped" : $"donor stopped (its batch job {_job} is ending)";

    public override void Dispose()
    {
        _core.Dispose();
        base.Dispose();
    }
}
