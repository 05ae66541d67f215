using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using RemoteMem.Fabric.Internal.Native;

namespace RemoteMem.Fabric.Internal;

/// <summary>
/// The one thread that reads a data path's completion queue. It completes operations (in batches), turns
/// error entries into exceptions, and enforces deadlines. It also drives the provider's progress, which
/// tcp;ofi_rxm and shm need on the target side: without it a donor's memory is unreachable.
/// Blocking mode sleeps in RmRdma_CqProgress's wait (native fd, or shm's emulated poll); spinning mode polls.
/// Stop sets a flag and signals the CQ (RmRdma_CqSignal); waits are also bounded, so it exits regardless.
/// Posts the provider refused with -FI_EAGAIN wait here and are retried after every round of completions.
/// </summary>
internal sealed unsafe class ProgressLoop
{
    private const int MaxWaitMs = 100;

    private readonly DataPath _path;
    private readonly CqHandle _cq;
    private readonly OperationPool _pool;
    private readonly Queue<FabricOperation> _deferred;
    private readonly string _provider;
    private readonly ILogger _logger;
    private readonly int _mode;
    private readonly int _batch;
    private readonly TimeSpan _timeout;
    private readonly long _scanTicks;
    private readonly Thread _thread;
    private volatile bool _stopping;
    private string? _unattributed;
    private long _unattributedAt;
    private int _lastFailure;
    private int _deferredCount;

    public ProgressLoop(DataPath path, string provider, FabricEndpointOptions options, ILogger logger)
    {
        _path = path;
        _cq = path.Cq;
        _pool = path.Operations;
        _deferred = new Queue<FabricOperation>(_pool.Capacity); // never grows: at most every operation
        _provider = provider;
        _logger = logger;
        _mode = options.ProgressMode == FabricProgressMode.Spinning ? 0 : 1;
        _batch = options.CompletionBatch;
        _timeout = options.OperationTimeout;
        // Deadlines are checked a few times per timeout (at most every 100 ms): an operation fails at most
        // ~1/8 of its timeout late, and a scan of MaxInFlight slots stays rare.
        _scanTicks = Math.Clamp(options.OperationTimeout.Ticks / 8, TimeSpan.TicksPerMillisecond, 100 * TimeSpan.TicksPerMillisecond)
            * Stopwatch.Frequency / TimeSpan.TicksPerSecond;
        _thread = new Thread(Run) { IsBackground = true, Name = $"RemoteMem fabric progress ({provider})" };
    }

    public void Start() => _thread.Start();

    /// <summary>Takes an operation the provider refused with -FI_EAGAIN; the thread posts it when it can.</summary>
    public void Defer(FabricOperation operation)
    {
        operation.Deferred = true;
        lock (_deferred)
        {
            _deferred.Enqueue(operation);
            _deferredCount = _deferred.Count;
        }

        Wake();
    }

    public void Stop()
    {
        _stopping = true;
        Wake();
        if (_thread.IsAlive && Thread.CurrentThread != _thread) _thread.Join();
    }

    public void Wake()
    {
        try
        {
            RmRdma.CqSignal(_cq);
        }
        catch (ObjectDisposedException)
        {
            // Already closed: the thread's next call fails and it exits.
        }
    }

    private void Run()
    {
        var entries = (RmRdmaCompletion*)NativeMemory.Alloc((nuint)_batch, (nuint)sizeof(RmRdmaCompletion));
        var error = (RmRdmaCompletionError*)NativeMemory.Alloc((nuint)sizeof(RmRdmaCompletionError));
        try
        {
            long nextScan = Stopwatch.GetTimestamp() + _scanTicks;
            while (!_stopping)
            {
                try
                {
                    long now = Stopwatch.GetTimestamp();
                    if (now >= nextScan)
                    {
                        ScanDeadlines(now);
                        nextScan = now + _scanTicks;
                    }

                    // Deferred posts are retried every millisecond at least; otherwise sleep until the next scan.
                    int waitMs = Volatile.Read(ref _deferredCount) > 0 ? 1 : (int)Math.Clamp((nextScan - now) * 1000 / Stopwatch.Frequency, 1, MaxWaitMs);
                    int status = RmRdma.CqProgress(_cq, _mode, waitMs, entries, _batch, out int count);
                    Drain(status, count, entries, error);
                    RetryDeferred();
                }
                catch (ObjectDisposedException) when (_stopping)
                {
                    // The CQ closed under a stopping loop.
                }
                catch (Exception ex)
                {
                    // Keep going: without this thread nothing completes and no deadline fires.
                    Log.ProgressThreadFailed(_logger, _provider, ex);
                    Thread.Sleep(1);
                }
            }
        }
        finally
        {
            NativeMemory.Free(entries);
            NativeMemory.Free(error);
        }
    }

    /// <summary>Dispatches what one call returned, then keeps reading until the queue is empty.</summary>
    private void Drain(int status, int count, RmRdmaCompletion* entries, RmRdmaCompletionError* error)
    {
        while (true)
        {
            for (int i = 0; i < count; i++) Complete(entries[i].Context);
            if (status == RmRdmaConstants.StatusEAvail)
            {
                Fail(error);
            }
            else if (status < 0 && status != RmRdmaConstants.StatusEAgain)
            {
                ReportFailure(status);
                return;
            }
            else if (count < _batch)
            {
                return;
            }

            status = RmRdma.CqRead(_cq, entries, _batch, out count);
        }
    }

    /// <summary>Completes the operation of one completion entry; also called by posting threads that read the CQ (DataPath.ReapInline).</summary>
    public void Complete(nint context)
    {
        if (!_pool.TryFind(context, out var operation))
        {
            Log.UnknownCompletion(_logger, _provider, context);
            return;
        }

        operation.TryComplete(null);
        operation.ReleaseProvider();
    }

    private void Fail(RmRdmaCompletionError* error)
    {
        if (RmRdma.CqReadError(_cq, error) != 0) return; // raced away or none: read again
        if (!_pool.TryFind(error->Context, out var operation))
        {
            // shm's CMA fast path reports a failed copy with a NULL context: nobody can be failed, the
            // operation times out. Remember the text for its TimeoutException.
            string text = $"{error->MessageText()} (err {error->Error})";
            _unattributedAt = Stopwatch.GetTimestamp();
            Volatile.Write(ref _unattributed, text);
            Log.UnattributedError(_logger, _provider, error->Context, error->MessageText(), error->Error);
            FailPostedBefore(_unattributedAt, text);
            return;
        }

        operation.TryComplete(FabricErrors.FromCompletion(*error, operation, _provider));
        operation.ReleaseProvider();
    }

    /// <summary>
    /// An error nobody can be matched to (shm, a dead peer) means one of the operations in flight will
    /// never complete. Rather than let each wait for its deadline, every operation posted before the error
    /// fails now (quarantined, as on a timeout, since the provider may still complete it): callers retry,
    /// which is safe for one-sided reads and writes, and learn quickly when the peer is gone.
    /// </summary>
    private void FailPostedBefore(long timestamp, string text)
    {
        foreach (var operation in _pool.Operations)
        {
            long word = operation.Word;
            if (!FabricOperation.IsPendingWord(word) || operation.Deferred || operation.PostedTimestamp > timestamp) continue;
            operation.TryTimeOut(word, new FabricException(
                $"fabric {(operation.IsWrite ? "write" : "read")} over {_provider} may have failed: the provider reported an error it could not attribute to an operation ({text}); retry it."));
        }
    }

    private void ReportFailure(int status)
    {
        if (status != _lastFailure)
        {
            _lastFailure = status;
            Log.ProgressFailed(_logger, _provider, RmRdma.Describe(status), status);
        }

        Thread.Sleep(1); // a persistent failure must not become a hot loop
    }

    /// <summary>
    /// Posts deferred operations in order until the provider refuses again. Ones that timed out meanwhile
    /// (never accepted by the provider) are dropped and their context released.
    /// </summary>
    private void RetryDeferred()
    {
        if (Volatile.Read(ref _deferredCount) == 0) return;
        lock (_deferred)
        {
            bool full = false;
            for (int n = _deferred.Count; n > 0; n--)
            {
                var operation = _deferred.Dequeue();
                if (!operation.IsPending)
                {
                    operation.ReleaseProvider(); // timed out before the provider ever took it
                    continue;
                }

                int status = full ? RmRdmaConstants.StatusEAgain : _path.TryPost(operation);
                if (status is RmRdmaConstants.StatusEAgain or DataPath.Retired)
                {
                    // Retired: the path is going away; its retirement fails the operation with the right reason.
                    full = true;
                    _deferred.Enqueue(operation);
                }
                else if (status == 0)
                {
                    operation.Deferred = false;
                }
                else
                {
                    operation.TryComplete(FabricErrors.FromStatus(status, operation.IsWrite ? "fi_write" : "fi_read"));
                    operation.ReleaseProvider();
                }
            }

            _deferredCount = _deferred.Count;
        }
    }

    private void ScanDeadlines(long now)
    {
        foreach (var operation in _pool.Operations)
        {
            long word = operation.Word;
            if (!FabricOperation.IsPendingWord(word) || now < operation.DeadlineTimestamp) continue;
            string? unattributed = Volatile.Read(ref _unattributed) is { } text && _unattributedAt >= operation.PostedTimestamp ? text : null;
            var timeout = operation.Deferred ? FabricErrors.NotAccepted(operation, _provider, _timeout) : FabricErrors.Timeout(operation, _provider, _timeout, unattributed);
            if (operation.TryTimeOut(word, timeout))
                Log.TimedOut(_logger, _provider, operation.Describe(), _timeout.TotalSeconds);
        }
    }
}
