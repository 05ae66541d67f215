using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Client.Internal;

/// <summary>
/// The client's connection to the manager, re-established on demand. Calls run through Polly:
/// every attempt has a timeout; idempotent calls (renew, release, status) also retry with jittered
/// exponential backoff on connection failures and timeouts. Allocation does not retry, since a lost
/// answer would leave an orphaned lease (it expires on its own).
/// </summary>
internal sealed class ControlChannel : IAsyncDisposable
{
    private readonly string _endpoint;
    private readonly ClusterSecret _secret;
    private readonly TransportOptions _transport;
    private readonly ILogger? _logger;
    private readonly ResiliencePipeline _once;
    private readonly ResiliencePipeline _idempotent;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private FrameClient? _connection;

    public ControlChannel(string endpoint, ClusterSecret secret, RemoteMemClientOptions options)
    {
        _endpoint = endpoint;
        _secret = secret;
        _transport = options.Transport(options.ControlTimeout);
        _logger = options.Logger;
        _once = new ResiliencePipelineBuilder().AddTimeout(options.ControlTimeout).Build();
        _idempotent = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<ConnectionFailedException>().Handle<TimeoutRejectedException>().Handle<IOException>(),
                MaxRetryAttempts = Math.Max(0, options.ControlRetries),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(100),
            })
            .AddTimeout(options.ControlTimeout)
            .Build();
    }

    /// <summary>Raised for each lease-lost event the manager pushes.</summary>
    public event Action<LeaseLostEvent>? LeaseLost;

    /// <summary>
    /// One control call. Every failure surfaces as the client's documented exceptions: refusals by
    /// their code (about lease <paramref name="leaseId"/> when given), an unreachable or silent manager
    /// as <see cref="ManagerUnreachableException"/>.
    /// </summary>
    public async Task<byte[]> CallAsync(Opcode opcode, byte[] payload, bool idempotent, CancellationToken cancellationToken, ulong leaseId = 0)
    {
        try
        {
            return await (idempotent ? _idempotent : _once).ExecuteAsync(async token =>
            {
                var connection = await ConnectAsync(token).ConfigureAwait(false);
                return await connection.CallAsync(opcode, payload, token).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException ex)
        {
            throw new ManagerUnreachableException(_endpoint, $"Manager {_endpoint} did not answer {opcode} in time.", ex);
        }
        catch (ConnectionFailedException ex)
        {
            throw new ManagerUnreachableException(_endpoint, $"Cannot reach manager {_endpoint}: {ex.Message}", ex);
        }
        catch (WireException ex) when (ex.Code is ErrorCode.AuthenticationFailed or ErrorCode.UnsupportedVersion)
        {
            throw new RemoteMemException(ex.Code, $"Manager {_endpoint} refused this client: {ex.Message}", ex);
        }
        catch (WireException ex)
        {
            throw Errors.FromWire(ex, leaseId);
        }
    }

    public async Task<FrameClient> ConnectAsync(CancellationToken cancellationToken)
    {
        var current = _connection;
        if (current is { IsConnected: true }) return current;
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            current = _connection;
            if (current is { IsConnected: true }) return current;
            if (current is not null) await current.DisposeAsync().ConfigureAwait(false);
            var connection = await FrameClient.ConnectAsync(_endpoint, _secret, PeerRole.Client, _transport, _logger, cancellationToken).ConfigureAwait(false);
            connection.EventReceived += OnEvent;
            _connection = connection;
            return connection;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private void OnEvent(FrameHeader header, byte[] payload)
    {
        if (header.Opcode != Opcode.LeaseLostEvent) return;
        try
        {
            LeaseLost?.Invoke(LeaseLostEvent.Decode(payload));
        }
        catch (WireException ex)
        {
            _logger?.LogWarning(ex, "Ignoring a malformed lease-lost event from {Manager}", _endpoint);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
        _connectLock.Dispose();
    }
}
