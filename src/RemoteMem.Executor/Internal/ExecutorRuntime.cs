using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RemoteMem.Functions;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Executor.Internal;

/// <summary>
/// One executor process's state: the package's functions, the workers (one per client connection), the
/// deadline watch, near-data segments and the accelerator. It stops when the donor closes its standard
/// input, when the client's last connection closes, or when no client comes.
/// </summary>
internal sealed class ExecutorRuntime : IDisposable
{
    private readonly ClusterSecret _key;
    private readonly ConcurrentDictionary<Worker, byte> _workers = new();
    private readonly ManualResetEventSlim _stopped = new();
    private readonly PoolMapping? _pool;
    private string _stopReason = "";
    private int _connections;
    private int _everConnected;

    public ExecutorRuntime(ExecutorSettings settings, ExecutorBootstrap bootstrap, FunctionCatalog catalog, ILoggerFactory loggers)
    {
        Settings = settings;
        Catalog = catalog;
        Logger = loggers.CreateLogger("RemoteMem.Executor");
        FunctionLogger = loggers.CreateLogger("RemoteMem.Function");
        _key = ClusterSecret.FromBytes(bootstrap.Key);
        Gpu = new GpuDevice(settings.Gpus, Logger);
        if (bootstrap.Segments.Count > 0)
        {
            if (settings.PoolFd < 0) throw new InvalidOperationException("Near-data segments were granted but the donor passed no pool (--pool-fd).");
            _pool = new PoolMapping(settings.PoolFd, settings.PoolLength);
        }

        Segments = bootstrap.Segments.Select(MapSegment).ToArray();
    }

    public ExecutorSettings Settings { get; }

    public FunctionCatalog Catalog { get; }

    public ILogger Logger { get; }

    public ILogger FunctionLogger { get; }

    public GpuDevice Gpu { get; }

    public IReadOnlyList<NearDataSegment> Segments { get; }

    public ExecutorCounters Counters { get; } = new();

    public bool IsStopping => _stopped.IsSet;

    private int MaxConnections => Settings.Cores * 2 + 16;

    public ExecutorStatistics Statistics() => Counters.Snapshot(Gpu.Description);

    private unsafe NearDataSegment MapSegment(ExecutorBootstrap.Segment s)
    {
        if (s.Length > int.MaxValue) throw new InvalidOperationException($"Segment of {s.Length} bytes is larger than one Memory<byte> can address.");
        var memory = new NativeMemoryManager(_pool!.At(s.PoolOffset, s.Length), (int)s.Length).Memory;
        return new NearDataSegment(s.LeaseId, s.Column, s.Columns, s.StripeSize, s.AllocationLength, memory);
    }

    /// <summary>Serves until a stop condition; returns why it stopped.</summary>
    public string Serve(Socket listener, TextReader stdin)
    {
        StartThread("stdin", () =>
        {
            try
            {
                while (stdin.ReadLine() is not null)
                {
                }
            }
            catch (IOException)
            {
            }

            Stop("the donor ended the lease");
        });
        StartThread("accept", () => AcceptLoop(listener));
        using var watch = new Timer(_ => CheckDeadlines(), null, 5, 5);
        if (!_stopped.Wait(Settings.FirstConnectionTimeout) && Volatile.Read(ref _everConnected) == 0)
            Stop($"no client connected within {Settings.FirstConnectionTimeout.TotalSeconds:0} s");
        _stopped.Wait();
        listener.Dispose();
        foreach (var worker in _workers.Keys) worker.Context.CancelNow();
        return _stopReason;
    }

    private void AcceptLoop(Socket listener)
    {
        int number = 0;
        while (!IsStopping)
        {
            Socket socket;
            try
            {
                socket = listener.Accept();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }

            // A lease uses one connection per core; a flood of others (each holds a thread until its
            // handshake times out) is turned away at the door.
            if (Volatile.Read(ref _connections) >= MaxConnections)
            {
                ExecutorLog.ConnectionRefused(Logger, $"{MaxConnections} connections are open already");
                socket.Dispose();
                continue;
            }

            int n = ++number;
            Interlocked.Increment(ref _connections);
            StartThread($"worker-{n}", () => RunConnection(socket, n));
        }
    }

    private void RunConnection(Socket socket, int number)
    {
        try
        {
            var connection = FrameSocket.Accept(socket, _key, WireLimits.DefaultMaxFrameSize, TimeSpan.FromSeconds(10));
            if (connection is null)
            {
                ExecutorLog.ConnectionRefused(Logger, "the peer did not prove this lease's key");
                return;
            }

            Interlocked.Exchange(ref _everConnected, 1);
            var worker = new Worker(this, connection, number);
            _workers[worker] = 0;
            try
            {
                worker.Run();
            }
            finally
            {
                _workers.TryRemove(worker, out _);
            }
        }
        finally
        {
            if (Interlocked.Decrement(ref _connections) == 0 && Volatile.Read(ref _everConnected) == 1)
                Stop("the client closed its connections");
        }
    }

    private void CheckDeadlines()
    {
        long now = Stopwatch.GetTimestamp();
        foreach (var worker in _workers.Keys) worker.Context.CancelIfExpired(now);
    }

    private void Stop(string reason)
    {
        lock (_stopped)
        {
            if (_stopped.IsSet) return;
            _stopReason = reason;
            _stopped.Set();
        }
    }

    private static void StartThread(string name, Action body) =>
        new Thread(() => body()) { IsBackground = true, Name = $"executor-{name}" }.Start();

    public void Dispose()
    {
        Gpu.Dispose();
        _pool?.Dispose();
    }
}
