namespace RemoteMem.Tests.Functions;

/// <summary>Finds executor processes by their lease id (from /proc), to kill them or to check none is left.</summary>
internal static class ExecutorProcesses
{
    public static IReadOnlyList<int> Of(ulong leaseId)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid)) continue;
            try
            {
                var arguments = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0');
                int at = Array.IndexOf(arguments, "--lease-id");
                if (Array.IndexOf(arguments, "executor") >= 0 && at >= 0 && at + 1 < arguments.Length && arguments[at + 1] == leaseId.ToString())
                    found.Add(pid);
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    public static async Task WaitGoneAsync(ulong leaseId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Of(leaseId).Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the executor of lease {leaseId} is still running after {timeout.TotalSeconds:0} s");
            await Task.Delay(50);
        }
    }
}
