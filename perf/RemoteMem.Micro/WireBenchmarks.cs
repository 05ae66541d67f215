using BenchmarkDotNet.Attributes;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Micro;

/// <summary>Frame header and data-request prefix encode/decode, and capability verification.</summary>
[MemoryDiagnoser]
public class WireBenchmarks
{
    private readonly byte[] _header = new byte[FrameHeader.Size];
    private readonly byte[] _prefix = new byte[DataRequest.MaxPrefixSize];
    private readonly WireRange[] _ranges = new WireRange[WireLimits.MaxVectorRanges];
    private readonly CapabilityAuthority _authority = new(ClusterSecret.Generate(out _));
    private Capability _capability;

    [GlobalSetup]
    public void Setup()
    {
        _capability = _authority.Sign(new Capability { LeaseId = 1, DonorId = 2, SegmentId = 3, Length = 1 << 30, ExpiresUnixMs = long.MaxValue, Rights = Rights.ReadWrite });
        new FrameHeader(96, 1, Opcode.Read, 42, ErrorCode.Ok, FrameFlags.None).Write(_header);
        DataRequest.WritePrefix(_prefix, Opcode.Read, _capability, [new WireRange(4096, 65536)]);
    }

    [Benchmark]
    public void EncodeHeader() => new FrameHeader(96, 1, Opcode.Read, 42, ErrorCode.Ok, FrameFlags.None).Write(_header);

    [Benchmark]
    public bool DecodeHeader() => FrameHeader.TryRead(_header, out _, out _);

    [Benchmark]
    public int EncodeReadPrefix() => DataRequest.WritePrefix(_prefix, Opcode.Read, _capability, _ranges.AsSpan(0, 1));

    [Benchmark]
    public int DecodeReadPrefix() => DataRequest.ReadPrefix(_prefix, Capability.Size + DataRequest.RangeSize, Opcode.Read, out _, _ranges, out _);

    [Benchmark]
    public ErrorCode VerifyCapability() => _authority.Verify(_capability, 0);
}
