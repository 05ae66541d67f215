namespace RemoteMem.Perf.Suite;

/// <summary>The experiments `--experiments` can name, and the baselines some of them are divided by.</summary>
internal static class Steps
{
    public static readonly string[] Names = ["baselines", "segment", "array", "kv", "interference", "functions", "neardata", "memory", "fabric"];

    /// <summary>
    /// Parses "all" or a comma-separated list of <see cref="Names"/>. The segment and array figures divide by
    /// the raw stream and round trip measured in "baselines", so naming either brings the baselines in.
    /// </summary>
    public static bool TryParse(string text, out HashSet<string> selected, out string? unknown)
    {
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        selected = new HashSet<string>(StringComparer.Ordinal);
        unknown = null;
        foreach (var name in names)
        {
            if (name == "all") selected.UnionWith(Names);
            else if (Names.Contains(name)) selected.Add(name);
            else
            {
                unknown = name;
                return false;
            }
        }

        if (selected.Count == 0) selected.UnionWith(Names);
        if (selected.Contains("segment") || selected.Contains("array")) selected.Add("baselines");
        return true;
    }
}
