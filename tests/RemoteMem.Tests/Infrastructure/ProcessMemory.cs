namespace RemoteMem.Tests.Infrastructure;

public static class ProcessMemory
{
    /// <summary>Resident set size of a process from /proc (Linux).</summary>
    public static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            var kb = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]);
            return kb * 1024;
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no VmRSS line.");
    }
}
