using System.Text.Json;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Services.Manager.Internal;

/// <summary>
/// What the manager persists so that leases survive its restart: donors (identity and placement
/// data; health is re-established by their reconnection), leases with segments, holders, names, and
/// executor leases (so their cores stay counted while their executors run on).
/// JSON, written whole and atomically; small (a few hundred bytes per lease).
/// </summary>
internal sealed record ManagerSnapshot(ulong NextDonorId, ulong NextLeaseId, List<ManagerSnapshot.Donor> Donors, List<ManagerSnapshot.Lease> Leases,
    List<ExecutorLeaseRecord>? Executors = null)
{
    internal sealed record Donor(ulong Id, string Name, string Node, string Endpoint, long OfferedBytes, long LeasedBytes, int Cores, int Gpus, string Job, FabricAddress? Fabric);

    internal sealed record Segment(ulong DonorId, string Endpoint, ulong SegmentId, ulong PoolOffset, ulong Length, ushort Group);

    /// <summary>No expiry: a restored holder gets a fresh lifetime from the restart (and renewals then cause no writes).</summary>
    internal sealed record Holder(ulong Id, Rights Rights, long TtlMs);

    internal sealed record Lease(ulong Id, ulong Bytes, uint StripeSize, int Replicas, int Groups, List<Segment> Segments, List<Holder> Holders,
        string? Name, byte[] Metadata, long CapabilitiesValidUntilUnixMs, bool AllowSpill = false);

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ManagerSnapshot FromJson(string json) =>
        JsonSerializer.Deserialize<ManagerSnapshot>(json, Json) ?? throw new InvalidDataException("The manager state file is empty.");
}
