using RemoteMem.Wire;

namespace RemoteMem.Services;

/// <summary>Settings every RemoteMem process of one cluster shares (configuration section "Cluster").</summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>Path of the cluster secret file (hex or base64). Alternatively set REMOTEMEM_SECRET.</summary>
    public string? SecretFile { get; set; }

    /// <summary>The secret itself (hex or base64); prefer <see cref="SecretFile"/> on shared systems.</summary>
    public string? Secret { get; set; }

    /// <summary>Resolves the secret or fails with a message that says how to provide one.</summary>
    public ClusterSecret ResolveSecret() =>
        ClusterSecret.Resolve(SecretFile, Secret)
        ?? throw new InvalidOperationException(
            $"No cluster secret. Give every process of the cluster the same secret: --secret-file PATH, Cluster:SecretFile in appsettings, or the {ClusterSecret.EnvironmentVariable} environment variable. Create one with `remotemem secret --out PATH`.");
}
