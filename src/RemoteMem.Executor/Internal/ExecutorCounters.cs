using RemoteMem.Wire.Messages;

namespace RemoteMem.Executor.Internal;

/// <summary>What the workers have done, for the client's statistics.</summary>
internal sealed class ExecutorCounters
{
    private long _hot, _warm, _failed, _deadlines;

    public void Arrived(bool hot)
    {
        if (hot) Interlocked.Increment(ref _hot);
        else Interlocked.Increment(ref _warm);
    }

    public void Failed() => Interlocked.Increment(ref _failed);

    public void DeadlineExceeded() => Interlocked.Increment(ref _deadlines);

    public ExecutorStatistics Snapshot(string accelerator) =>
        new((ulong)Interlocked.Read(ref _hot), (ulong)Interlocked.Read(ref _warm), (ulong)Interlocked.Read(ref _failed), (ulong)Interlocked.Read(ref _deadlines), accelerator);
}
