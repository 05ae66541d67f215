namespace RemoteMem.Client.Functions;

/// <summary>What an executor lease asks for (<see cref="RemoteMemClient.LeaseExecutorAsync"/>).</summary>
public sealed class ExecutorLeaseOptions
{
    /// <summary>The functions to run. Required.</summary>
    public required FunctionPackage Package { get; init; }

    /// <summary>Worker cores: the executor runs this many invocations at once (default 1).</summary>
    public int Cores { get; init; } = 1;

    /// <summary>GPUs: a function then gets an accelerator from its context (default 0).</summary>
    public int Gpus { get; init; }

    /// <summary>Limit on the executor's managed heap in bytes (0: none). A function that exceeds it fails with OutOfMemoryException.</summary>
    public long MemoryLimitBytes { get; init; }

    /// <summary>
    /// How long a worker stays hot (spinning, lowest latency, one core busy) after its last call before it
    /// blocks (warm: no CPU, a few microseconds more per call). While calls of a hot lease are in flight,
    /// the client also spins up to 100 µs for each answer before it blocks. <see cref="Timeout.InfiniteTimeSpan"/> keeps
    /// it always hot, <see cref="TimeSpan.Zero"/> always warm. Default 100 ms.
    /// </summary>
    public TimeSpan HotTimeout { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Run the code after an awaited call on the lease's receive thread instead of the thread pool: one
    /// thread hop less per call (about 10 µs on a small VM). Only for callers that never block that
    /// thread: waiting synchronously there (<c>.Result</c>) on another call of the same lease deadlocks.
    /// Default false.
    /// </summary>
    public bool InlineCompletions { get; init; }

    /// <summary>How long the lease lasts (default: the manager's, one hour); the executor stops at the end.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Deadline of a call that names none (default 30 s).</summary>
    public TimeSpan DefaultTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Near-data: allocations whose segments the functions may read and write in place
    /// (<c>FunctionContext.Segments</c>). The lease goes to the donor that holds most of the first one, and
    /// gets the segments that donor holds.
    /// </summary>
    public IReadOnlyList<RemoteAllocation> NearData { get; init; } = [];

    /// <summary>Near-data columns to hand over (null: every column the donor holds); the map helper splits columns between donors with it.</summary>
    internal IReadOnlySet<int>? NearDataColumns { get; init; }

    /// <summary>Run on this donor (an id from the status report) when it has room; 0 lets the manager choose.</summary>
    public ulong PreferDonorId { get; init; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Package);
        if (Cores is < 1 or > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(Cores), Cores, "An executor lease has 1 or more cores.");
        if (Gpus is < 0 or > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(Gpus), Gpus, "GPUs must not be negative.");
        if (MemoryLimitBytes < 0) throw new ArgumentOutOfRangeException(nameof(MemoryLimitBytes), "The memory limit must not be negative.");
        if (HotTimeout < TimeSpan.Zero && HotTimeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(HotTimeout), "Use a positive time, TimeSpan.Zero (always warm) or Timeout.InfiniteTimeSpan (always hot).");
        if (DefaultTimeout <= TimeSpan.Zero || DefaultTimeout.TotalMilliseconds > uint.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(DefaultTimeout), "The default deadline must be positive.");
        if (Duration < TimeSpan.Zero || Duration.TotalMilliseconds > uint.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(Duration), "The lease duration must be positive (or zero for the manager's default).");
    }

    /// <summary>
    /// A hot lease's client side spins this long for an answer before its receive thread blocks: a
    /// short call's answer then arrives to a running thread instead of waking a sleeping one (on
    /// loopback that halves the round trip). Warm leases never spin.
    /// </summary>
    internal TimeSpan AnswerSpin => HotTimeout == TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromMicroseconds(100);

    internal int HotTimeoutMs => HotTimeout == Timeout.InfiniteTimeSpan ? -1 : (int)Math.Min(int.MaxValue, HotTimeout.TotalMilliseconds);
}
