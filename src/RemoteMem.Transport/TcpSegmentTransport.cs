using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RemoteMem.Wire;

namespace RemoteMem.Transport;

/// <summary>
/// The managed TCP data plane: one long-lived <see cref="FrameClient"/> per donor endpoint, shared by
/// every segment and caller on that donor, re-established on the next request after it fails.
/// </summary>
public sealed class TcpSegmentTransport(ClusterSecret secret, TransportOptions options, ILogger? logger = null) : ISegmentTransport
{
    private readonly ConcurrentDictionary<string, Lazy<Task<FrameClient>>> _connections = new();
    private readonly SpilledSegments _spilled = new();

    public string Name => "tcp";

    public int MaxBytesPerRequest { get; } = options.MaxFrameSize - FrameHeader.Size - Wire.Messages.DataRequest.MaxPrefixSize;

    public ValueTask ReadAsync(SegmentTarget target, ReadOnlyMemory<IoOp> ops, CancellationToken cancellationToken = default) =>
        SpilledSegments.Holds(target) ? _spilled.ExecuteAsync(write: false, target, ops)
            : ExecuteAsync(ops.Length == 1 ? Opcode.Read : Opcode.ReadVector, target, ops, cancellationToken);

    public ValueTask WriteAsync(SegmentTarget target, ReadOnlyMemory<IoOp> ops, CancellationToken cancellationToken = default) =>
        SpilledSegments.Holds(target) ? _spilled.ExecuteAsync(write: true, target, ops)
            : ExecuteAsync(ops.Length == 1 ? Opcode.Write : Opcode.WriteVector, target, ops, cancellationToken);

    private ValueTask ExecuteAsync(Opcode opcode, SegmentTarget target, ReadOnlyMemory<IoOp> ops, CancellationToken cancellationToken)
    {
        // The common case, a live connection, adds no async layer (and no state machine) of its own.
        var connection = GetAsync(target.Endpoint, cancellationToken);
        return connection.IsCompletedSuccessfully
            ? connection.Result.ExecuteAsync(opcode, target.Capability, ops, cancellationToken)
            : ConnectThenExecuteAsync(connection, opcode, target, ops, cancellationToken);
    }

    private static async ValueTask ConnectThenExecuteAsync(ValueTask<FrameClient> connecting, Opcode opcode, SegmentTarget target, ReadOnlyMemory<IoOp> ops, CancellationToken cancellationToken)
    {
        var connection = await connecting.ConfigureAwait(false);
        await connection.ExecuteAsync(opcode, target.Capability, ops, cancellationToken).ConfigureAwait(false);
    }

    public void Read(SegmentTarget target, ReadOnlySpan<IoOp> ops)
    {
        if (SpilledSegments.Holds(target)) _spilled.Execute(write: false, target, ops);
        else Get(target.Endpoint).Execute(ops.Length == 1 ? Opcode.Read : Opcode.ReadVector, target.Capability, ops);
    }

    public void Write(SegmentTarget target, ReadOnlySpan<IoOp> ops)
    {
        if (SpilledSegments.Holds(target)) _spilled.Execute(write: true, target, ops);
        else Get(target.Endpoint).Execute(ops.Length == 1 ? Opcode.Write : Opcode.WriteVector, target.Capability, ops);
    }

    private FrameClient Get(string endpoint)
    {
        var task = GetAsync(endpoint, CancellationToken.None);
        return task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
    }

    private ValueTask<FrameClient> GetAsync(string endpoint, CancellationToken cancellationToken)
    {
        if (_connections.TryGetValue(endpoint, out var existing) && existing.IsValueCreated && existing.Value.IsCompletedSuccessfully && existing.Value.Result.IsConnected)
            return new ValueTask<FrameClient>(existing.Value.Result);
        return new ValueTask<FrameClient>(ConnectAsync(endpoint, cancellationToken));
    }

    private async Task<FrameClient> ConnectAsync(string endpoint, CancellationToken cancellationToken)
    {
        while (true)
        {
            var lazy = _connections.GetOrAdd(endpoint, e => new Lazy<Task<FrameClient>>(() => FrameClient.ConnectAsync(e, secret, PeerRole.Client, options, logger)));
            FrameClient client;
            try
            {
                client = await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // A failed attempt must not be cached: the next request tries again.
                _connections.TryRemove(new KeyValuePair<string, Lazy<Task<FrameClient>>>(endpoint, lazy));
                throw;
            }

            if (client.IsConnected) return client;
            if (_connections.TryRemove(new KeyValuePair<string, Lazy<Task<FrameClient>>>(endpoint, lazy)))
                _ = client.DisposeAsync().AsTask();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lazy in _connections.Values)
        {
            if (!lazy.IsValueCreated) continue;
            try
            {
                var client = await lazy.Value.ConfigureAwait(false);
                await client.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ConnectionFailedException or WireException)
            {
            }
        }

        _connections.Clear();
        _spilled.Dispose();
    }
}
