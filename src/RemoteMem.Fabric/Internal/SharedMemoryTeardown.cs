namespace RemoteMem.Fabric.Internal;

/// <summary>
/// Orders the native closes of shm endpoints that share a process. libfabric's shm (1.17) does not map the
/// region of a peer in its own process: it borrows the owner's pointer (smr_map_to_region looks the name up in
/// a process-wide list), and the owner's close unmaps it. A live endpoint that talked to it then touches
/// unmapped memory: a read posted after an in-process donor closed crashed the process with SIGSEGV inside
/// fi_read. So while another shm endpoint lives in this process, a closing one only stops (progress thread,
/// operations failed) and its native objects are closed when the last shm endpoint of the process goes.
/// Separate processes (the production case) map each other's regions themselves and are unaffected: there is
/// one shm endpoint per process and every close happens at once.
/// </summary>
internal static class SharedMemoryTeardown
{
    private static readonly object Gate = new();
    private static readonly List<Action> Deferred = [];
    private static int _live;

    public static bool Applies(string provider) => provider is "shm" or "sm2";

    /// <summary>Count a new shm endpoint of this process.</summary>
    public static void Opened()
    {
        lock (Gate) _live++;
    }

    /// <summary>
    /// Runs <paramref name="close"/> now if no other shm endpoint of this process lives, else when the last one
    /// goes; then also runs the closes that waited. <paramref name="leaving"/>: the caller's endpoint is being
    /// disposed (false for a rebuild, whose endpoint stays). True when it ran now.
    /// </summary>
    public static bool Close(Action close, bool leaving)
    {
        Action[] run;
        lock (Gate)
        {
            if (leaving) _live--;
            int others = leaving ? _live : _live - 1;
            if (others > 0)
            {
                Deferred.Add(close);
                return false;
            }

            run = [.. Deferred, close];
            Deferred.Clear();
        }

        foreach (var action in run) action();
        return true;
    }
}
