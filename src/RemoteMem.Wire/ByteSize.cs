using System.Globalization;

namespace RemoteMem.Wire;

/// <summary>Parses and prints byte counts with units: "16GiB", "512 MiB", "1.5G", "4096".</summary>
public static class ByteSize
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("TIB", 1L << 40), ("GIB", 1L << 30), ("MIB", 1L << 20), ("KIB", 1L << 10),
        ("TB", 1_000_000_000_000), ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1_000),
        ("T", 1L << 40), ("G", 1L << 30), ("M", 1L << 20), ("K", 1L << 10),
        ("B", 1),
    ];

    /// <summary>
    /// Binary units (KiB, MiB, GiB, TiB) and their one-letter forms (K, M, G, T) are powers of 1024;
    /// KB, MB, GB, TB are powers of 1000; a bare number is bytes.
    /// </summary>
    public static long Parse(string text)
    {
        if (!TryParse(text, out long value))
            throw new FormatException($"'{text}' is not a size. Use a number with an optional unit: 4096, 64KiB, 512MiB, 16GiB, 2GB.");
        return value;
    }

    public static bool TryParse(string? text, out long value)
    {
        value = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim().ToUpperInvariant();
        long factor = 1;
        foreach (var (suffix, f) in Units)
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal))
            {
                factor = f;
                s = s[..^suffix.Length].TrimEnd();
                break;
            }
        }

        if (!decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || number < 0) return false;
        var bytes = number * factor;
        if (bytes > long.MaxValue) return false;
        value = (long)decimal.Floor(bytes);
        return true;
    }

    /// <summary>Formats with the largest binary unit that keeps the number at least 1: "1.5 GiB".</summary>
    public static string Format(long bytes)
    {
        string[] names = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int unit = 0;
        while (Math.Abs(v) >= 1024 && unit < names.Length - 1)
        {
            v /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : v.ToString(v >= 100 ? "0" : "0.#", CultureInfo.InvariantCulture) + " " + names[unit];
    }
}
