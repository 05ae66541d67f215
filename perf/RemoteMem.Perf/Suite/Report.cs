using System.Text;
using System.Text.Json;

namespace RemoteMem.Perf.Suite;

/// <summary>One reported figure, optionally next to a baseline measured in the same run and a goal on their ratio.</summary>
internal sealed record Figure(string Experiment, string Name, string Unit, double Value, bool HigherIsBetter = true,
    string? BaselineName = null, double? Baseline = null, double? GoalRatio = null)
{
    public double? Ratio => Baseline is > 0 ? Value / Baseline : null;

    /// <summary>Goal met: ratio ≥ goal when higher is better, ratio ≤ goal otherwise. Null without a goal.</summary>
    public bool? Met => GoalRatio is null || Ratio is null ? null : HigherIsBetter ? Ratio >= GoalRatio : Ratio <= GoalRatio;

    public string GoalText => GoalRatio is null ? "—" : (HigherIsBetter ? "≥ " : "≤ ") + GoalRatio.Value.ToString("0.0#") + "×";
}

/// <summary>Everything one run measured: figures for the table, raw samples and series for the JSON and the plots.</summary>
internal sealed class Report
{
    public List<Figure> Figures { get; } = [];

    public Dictionary<string, double[]> Samples { get; } = [];

    public Dictionary<string, List<(double X, double Y)>> Series { get; } = [];

    public List<string> Notes { get; } = [];

    public Dictionary<string, string> Environment { get; } = [];

    public void Add(Figure figure) => Figures.Add(figure);

    public void Point(string series, double x, double y)
    {
        if (!Series.TryGetValue(series, out var points)) Series[series] = points = [];
        points.Add((x, y));
    }

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine("| experiment | figure | value | baseline (same run) | ratio | goal | result |");
        md.AppendLine("|---|---|---:|---|---:|---|---|");
        foreach (var f in Figures)
        {
            string baseline = f.Baseline is null ? "—" : $"{f.BaselineName}: {Format(f.Baseline.Value)} {f.Unit}";
            string ratio = f.Ratio is null ? "—" : f.Ratio.Value.ToString("0.00") + "×";
            string result = f.Met switch { true => "pass", false => "short", null => "—" };
            md.AppendLine($"| {f.Experiment} | {f.Name} | {Format(f.Value)} {f.Unit} | {baseline} | {ratio} | {f.GoalText} | {result} |");
        }

        if (Notes.Count > 0)
        {
            md.AppendLine();
            foreach (var note in Notes) md.AppendLine("- " + note);
        }

        return md.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(new
    {
        environment = Environment,
        figures = Figures.Select(f => new { f.Experiment, f.Name, f.Unit, f.Value, f.BaselineName, f.Baseline, f.Ratio, f.GoalRatio, f.HigherIsBetter, f.Met }),
        samples = Samples,
        series = Series.ToDictionary(s => s.Key, s => s.Value.Select(p => new[] { p.X, p.Y })),
        notes = Notes,
    }, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase });

    private static string Format(double value) => value switch
    {
        >= 100_000 => value.ToString("N0"),
        >= 100 => value.ToString("0"),
        >= 10 => value.ToString("0.0"),
        _ => value.ToString("0.00"),
    };
}
