using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RemoteMem.Transport;

namespace RemoteMem.Services.Manager;

/// <summary>The manager as a hosted service: serves control frames and sweeps for dead donors and expired leases.</summary>
public sealed class ManagerService : BackgroundService
{
    private readonly ManagerOptions _options;
    private readonly ILogger<ManagerService> _logger;
    private readonly FrameServer _server;

    public ManagerService(IOptions<ManagerOptions> options, IOptions<ClusterOptions> cluster, ILogger<ManagerService> logger, TransportOptions? transport = null)
    {
        _options = options.Value;
        _logger = logger;
        var secret = cluster.Value.ResolveSecret();
        var transportOptions = transport ?? new TransportOptions();
        Core = new ManagerCore(_options, secret, transportOptions, logger);
        _server = new FrameServer(new ManagerFrameHandler(Core, logger), secret, transportOptions, logger);
    }

    public ManagerCore Core { get; }

    /// <summary>The endpoint the manager listens on (with the real port).</summary>
    public string Endpoint { get; private set; } = "";

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Core.RestoreState();
        Endpoint = Endpoints.Format(_server.Start(_options.Listen));
        Core.Endpoint = Endpoint;
        ManagerLog.Listening(_logger, Endpoint);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromMilliseconds(Math.Clamp(_options.HeartbeatInterval.TotalMilliseconds / 4, 20, 250));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                Core.Sweep();
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _server.StopAsync(TimeSpan.FromSeconds(2));
        await base.StopAsync(cancellationToken);
        await Core.DisposeAsync();
    }
}
