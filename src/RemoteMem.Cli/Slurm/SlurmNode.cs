namespace RemoteMem.Cli.Slurm;

/// <summary>
/// A node Slurm would let a donor use, as `sinfo` reports it. <see cref="AllocatableMiB"/> (configured
/// memory minus what jobs hold) is what Slurm can still hand out; <see cref="FreeMiB"/> is the operating
/// system's free memory at slurmd's last report, a stale hint only.
/// </summary>
internal sealed record SlurmNode(
    string Name,
    string State,
    int IdleCores,
    int TotalCores,
    long MemoryMiB,
    long AllocatedMiB,
    long? FreeMiB,
    IReadOnlyList<string> Partitions)
{
    public long AllocatableMiB => Math.Max(0, MemoryMiB - AllocatedMiB);

    /// <summary>sinfo's fields, in the order <see cref="Parse"/> reads them, each ended by '|' (no padding, no truncation).</summary>
    public const string SinfoFormat = "NodeList:0|,StateLong:0|,CPUsState:0|,Memory:0|,AllocMem:0|,FreeMem:0|,Partition:0|";

    /// <summary>
    /// Parses `sinfo -N -h -O <see cref="SinfoFormat"/>`. A node in several partitions appears once per
    /// partition and is merged here; the default partition's trailing '*' is dropped.
    /// </summary>
    public static IReadOnlyList<SlurmNode> Parse(string sinfoOutput)
    {
        var nodes = new List<SlurmNode>();
        var byName = new Dictionary<string, int>();
        foreach (var raw in sinfoOutput.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0) continue;
            var f = line.Split('|');
            if (f.Length < 7) throw new SlurmException($"Unexpected sinfo line (want 7 '|'-separated fields): '{line}'.");
            var partition = f[6].Trim().TrimEnd('*');
            if (byName.TryGetValue(f[0].Trim(), out int at))
            {
                if (partition.Length > 0 && !nodes[at].Partitions.Contains(partition))
                    nodes[at] = nodes[at] with { Partitions = [.. nodes[at].Partitions, partition] };
                continue;
            }

            // CPUsState is allocated/idle/other/total.
            var cpus = f[2].Split('/');
            if (cpus.Length != 4) throw new SlurmException($"Unexpected CPUsState '{f[2]}' in sinfo line '{line}' (want A/I/O/T).");
            var node = new SlurmNode(
                f[0].Trim(), f[1].Trim(), (int)Long(cpus[1], line), (int)Long(cpus[3], line), Long(f[3], line), Long(f[4], line),
                long.TryParse(f[5].Trim(), out long free) ? free : null,
                partition.Length > 0 ? [partition] : []);
            byName[node.Name] = nodes.Count;
            nodes.Add(node);
        }

        return nodes;
    }

    private static long Long(string text, string line) =>
        long.TryParse(text.Trim(), out long value) ? value : throw new SlurmException($"Unexpected number '{text}' in sinfo line '{line}'.");
}
