using System.Text.Json;
using System.Text.Json.Serialization;

namespace RemoteMem.Wire.Messages;

/// <summary>
/// The manager's answer to Status: the cluster as JSON (UTF-8) inside the binary frame, so that
/// status can grow fields without a protocol version change. Unknown fields are ignored by readers.
/// </summary>
public sealed record StatusReport(
    string ManagerEndpoint,
    long GeneratedUnixMs,
    IReadOnlyList<DonorStatus> Donors,
    IReadOnlyList<LeaseStatus> Leases)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public byte[] Encode() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static StatusReport Decode(ReadOnlySpan<byte> payload)
    {
        try
        {
            return JsonSerializer.Deserialize<StatusReport>(payload, Json)
                ?? throw new WireException(ErrorCode.MalformedFrame, "Malformed status report: null.");
        }
        catch (JsonException ex)
        {
            throw new WireException(ErrorCode.MalformedFrame, "Malformed status report: " + ex.Message, ex);
        }
    }
}

/// <summary>Health of a donor as the manager sees it.</summary>
public enum DonorHealth
{
    Alive,
    Dead,
    Left,

    /// <summary>Leaving: takes no new segments while its segments move to other donors.</summary>
    Draining,
}

public sealed record DonorStatus(
    ulong Id,
    string Name,
    string Node,
    string Endpoint,
    DonorHealth Health,
    long OfferedBytes,
    long LeasedBytes,
    long ResidentBytes,
    int Cores,
    int Gpus,
    int Segments,
    long LastHeartbeatMsAgo,
    string? Job = null,
    int UsedCores = 0,
    int UsedGpus = 0,
    int Executors = 0);

public sealed record LeaseStatus(
    ulong Id,
    long Bytes,
    int StripeSize,
    IReadOnlyList<ulong> DonorIds,
    long ExpiresInMs,
    bool Lost,
    string? LostReason,
    string? Name = null,
    int Holders = 1,
    int Replicas = 1,
    bool Degraded = false,
    bool Rebuilding = false);
