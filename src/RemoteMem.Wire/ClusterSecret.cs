using System.Security.Cryptography;
using System.Text;

namespace RemoteMem.Wire;

/// <summary>
/// The secret every process of one cluster shares. Two keys are derived from it, so that a MAC made
/// for one purpose can never be replayed as the other: one authenticates connections in the handshake,
/// one signs capabilities.
/// </summary>
public sealed class ClusterSecret
{
    /// <summary>Environment variable holding the secret (hex or base64), or "@path" to read it from a file.</summary>
    public const string EnvironmentVariable = "REMOTEMEM_SECRET";

    private const int MinimumBytes = 16;

    private ClusterSecret(byte[] secret)
    {
        HandshakeKey = HMACSHA256.HashData(secret, "remotemem/handshake/v1"u8);
        CapabilityKey = HMACSHA256.HashData(secret, "remotemem/capability/v1"u8);
        Fingerprint = Convert.ToHexString(SHA256.HashData(secret))[..12].ToLowerInvariant();
    }

    internal byte[] HandshakeKey { get; }

    internal byte[] CapabilityKey { get; }

    /// <summary>A short, non-secret fingerprint that lets an operator check two processes share a secret.</summary>
    public string Fingerprint { get; }

    /// <summary>A fresh random secret (the embedded local cluster makes one per run).</summary>
    public static ClusterSecret Generate(out string text)
    {
        var bytes = RandomNumberGenerator.GetBytes(32);
        text = Convert.ToHexString(bytes).ToLowerInvariant();
        return new ClusterSecret(bytes);
    }

    /// <summary>Parses a secret written as hex or base64 (surrounding whitespace ignored).</summary>
    public static ClusterSecret Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        byte[] bytes;
        try
        {
            bytes = trimmed.Length % 2 == 0 && trimmed.All(Uri.IsHexDigit)
                ? Convert.FromHexString(trimmed)
                : Convert.FromBase64String(trimmed);
        }
        catch (FormatException)
        {
            throw new FormatException("The cluster secret is neither hex nor base64. Create one with `remotemem secret --out FILE`.");
        }

        if (bytes.Length < MinimumBytes)
            throw new FormatException($"The cluster secret has {bytes.Length} bytes; at least {MinimumBytes} are required. Create one with `remotemem secret --out FILE`.");
        return new ClusterSecret(bytes);
    }

    /// <summary>A secret from raw bytes (at least 16), e.g. an executor lease's derived key.</summary>
    public static ClusterSecret FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < MinimumBytes) throw new ArgumentException($"A secret needs at least {MinimumBytes} bytes.", nameof(bytes));
        return new ClusterSecret(bytes.ToArray());
    }

    /// <summary>Reads a secret file (hex or base64 text).</summary>
    public static ClusterSecret FromFile(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Cluster secret file '{path}' does not exist. Create one with `remotemem secret --out {path}`.", path);
        return Parse(File.ReadAllText(path, Encoding.UTF8));
    }

    /// <summary>
    /// Resolves the secret from, in order: an explicit file path, an explicit value, the
    /// <see cref="EnvironmentVariable"/> variable. Returns null when none is set.
    /// </summary>
    public static ClusterSecret? Resolve(string? file, string? value)
    {
        if (!string.IsNullOrWhiteSpace(file)) return FromFile(file);
        if (!string.IsNullOrWhiteSpace(value)) return Parse(value);
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(env)) return null;
        return env.StartsWith('@') ? FromFile(env[1..]) : Parse(env);
    }
}
