using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Transport;

/// <summary>
/// Where a segment lives and the capability that opens it, plus its donor's fabric address when it
/// offers one-sided access. Immutable: a renewal makes a new one.
/// </summary>
public sealed record SegmentTarget(string Endpoint, Capability Capability, FabricAddress? Fabric = null);

/// <summary>
/// Moves bytes between local memory and leased remote segments. The managed TCP transport is the
/// default; a fabric transport (one-sided RMA through libfabric) implements the same contract, so the
/// client's striping, paging and retry logic never know which one runs underneath.
/// </summary>
public interface ISegmentTransport : IAsyncDisposable
{
    /// <summary>"tcp", "fabric", ...</summary>
    string Name { get; }

    /// <summary>Most bytes one request may move; callers split larger transfers.</summary>
    int MaxBytesPerRequest { get; }

    /// <summary>Fills the local memory of each op from the segment. All ops address one segment.</summary>
    ValueTask ReadAsync(SegmentTarget target, ReadOnlyMemory<IoOp> ops, CancellationToken cancellationToken = default);

    /// <summary>Writes the local memory of each op to the segment; complete means stored at the donor.</summary>
    ValueTask WriteAsync(SegmentTarget target, ReadOnlyMemory<IoOp> ops, CancellationToken cancellationToken = default);

    /// <summary>Blocking <see cref="ReadAsync"/>.</summary>
    void Read(SegmentTarget target, ReadOnlySpan<IoOp> ops);

    /// <summary>Blocking <see cref="WriteAsync"/>.</summary>
    void Write(SegmentTarget target, ReadOnlySpan<IoOp> ops);
}
