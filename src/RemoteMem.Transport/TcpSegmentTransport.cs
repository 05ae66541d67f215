using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RemoteMem.Transport.Internal;
using RemoteMem.Wire;

namespace RemoteMem.Transport;

/// <summary>
/// The managed TCP data plane: one long-lived connection per donor endpoint (callers send their own
/// requests, one thread receives the answers into their memory), shared by every segment and caller
/// on that donor, re-established on the next request after it fails.
/// </summary>
public sealed class TcpSegmentTransport(ClusterSecret secret, TransportOptions options, ILogger? logger = null) : ISegmentTransport, IReadAheadTransport
{
    private readonly ConcurrentDictionary<string, Lazy<Task<DataConnection>>> _connections = new();
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

    private static async ValueTask ConnectThenExecuteAsync(ValueTask<DataConnection> connecting, Opcode opcode, SegmentTarget target, ReadOnlyMemory<IoOp> ops, CancellationToken cancellationToken)
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

    /// <summary>A read-ahead on the donor's connection when it is up (a read-ahead does not connect).</summary>
    public ReadAhead BeginReadAhead(SegmentTarget target, ReadOnlySpan<IoOp> ops)
    {
        if (SpilledSegments.Holds(target)
            || !_connections.TryGetValue(target.Endpoint, out var existing) || !existing.IsValueCreated || !existing.Value.IsCompletedSuccessfully)
            return default;
        var connection = existing.Value.Result;
        var slot = connection.IsConnected ? connection.TryBeginReadAhead(target.Capability, ops) : null;
        return slot is null ? default : new ReadAhead(connection, slot);
    }

    private DataConnection Get(string endpoint)
    {
        var task = GetAsync(endpoint, CancellationToken.None);
        return task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
    }

    private ValueTask<DataConnection> GetAsync(string endpoint, CancellationToken cancellationToken)
    {
        if (_connections.TryGetValue(endpoint, out var existing) && existing.IsValueCreated && existing.Value.IsCompletedSuccessfully && existing.Value.Result.IsConnected)
            return new ValueTask<DataConnection>(existing.Value.Result);
        return new ValueTask<DataConnection>(ConnectAsync(endpoint, cancellationToken));
    }

    private async Task<DataConnection> ConnectAsync(string endpoint, CancellationToken cancellationToken)
    {
        while (true)
        {
            var lazy = _connections.GetOrAdd(endpoint, e => new Lazy<Task<DataConnection>>(() => DataConnection.ConnectAsync(e, secret, options, logger)));
            DataConnection client;
            try
            {
                client = await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // A failed attempt must not be cached: the next request tries again.
                _connections.TryRemove(new KeyValuePair<string, Lazy<Task<DataConnection>>>(endpoint, lazy));
                throw;
            }

            if (client.IsConnected) return client;
            if (_connections.TryRemove(new KeyValuePair<string, Lazy<Task<DataConnection>>>(endpoint, lazy)))
                client.Dispose();
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
                client.Dispose();
            }
            catch (Exception ex) when (ex is ConnectionFailedException or WireException)
            {
            }
        }

        _connections.Clear();
        _spilled.Dispose();
    }
}
