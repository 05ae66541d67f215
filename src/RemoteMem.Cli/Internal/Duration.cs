using System.Globalization;

namespace RemoteMem.Cli.Internal;

/// <summary>Parses durations written as "500ms", "5s", "2m", "1h" or "00:00:05".</summary>
internal static class Duration
{
    public static TimeSpan Parse(string text)
    {
        var s = text.Trim().ToLowerInvariant();
        (string Suffix, double Ms)[] units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];
        foreach (var (suffix, ms) in units)
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal) && double.TryParse(s[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0)
                return TimeSpan.FromMilliseconds(n * ms);
        }

        if (TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero) return span;
        throw new FormatException($"'{text}' is not a duration: use e.g. 500ms, 5s, 2m or 1h.");
    }

    /// <summary>The form configuration binding reads back into a <see cref="TimeSpan"/>.</summary>
    public static string ToConfig(string text) => Parse(text).ToString("c", CultureInfo.InvariantCulture);
}
