using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Tests.Wire;

/// <summary>Every control message round-trips, and every truncation or extension of a valid encoding is refused as MalformedFrame, never read past.</summary>
public sealed class MessageCodecProperties
{
    private static readonly (string Name, byte[] Encoded, Func<byte[], object> Decode)[] Samples =
    [
        ("Hello", new Hello(1, 1, 1 << 20, PeerRole.Client, new byte[16]).Encode(), b => Hello.Decode(b)),
        ("HelloReply", new HelloReply(1, 1 << 20, new byte[16], new byte[32]).Encode(), b => HelloReply.Decode(b)),
        ("Auth", new AuthRequest(new byte[32]).Encode(), b => AuthRequest.Decode(b)),
        ("DonorRegister", new DonorRegister(3, "donor-a", "node1", "127.0.0.1:7601", 1 << 30, 8, 1, "1234.0").Encode(), b => DonorRegister.Decode(b)),
        ("DonorRegister+fabric", new DonorRegister(3, "d", "n", "h:1", 1 << 30, 8, 0, "", new FabricAddress("tcp;ofi_rxm", [2, 0, 31, 144, 127, 0, 0, 1], 42, 0)).Encode(), b => DonorRegister.Decode(b)),
        ("DonorDrain", new DonorDrain(3, 30000).Encode(), b => DonorDrain.Decode(b)),
        ("DonorDrainReply", new DonorDrainReply(4, 1).Encode(), b => DonorDrainReply.Decode(b)),
        ("DonorRegisterReply", new DonorRegisterReply(3, 1000).Encode(), b => DonorRegisterReply.Decode(b)),
        ("DonorHeartbeat", new DonorHeartbeat(3, 1, 2, 3, 4).Encode(), b => DonorHeartbeat.Decode(b)),
        ("DonorDeregister", new DonorDeregister(3, "bye").Encode(), b => DonorDeregister.Decode(b)),
        ("LeaseRequest", new LeaseRequest(1 << 30, 2, 1 << 20, 30000, Rights.ReadWrite).Encode(), b => LeaseRequest.Decode(b)),
        ("LeaseGrant", new LeaseGrant(7, 2, 1 << 30, 1 << 20, 123456, [new SegmentGrant("127.0.0.1:1", new Capability { LeaseId = 7, Length = 10 }), new SegmentGrant("h:2", new Capability { SegmentId = 9 })]).Encode(), b => LeaseGrant.Decode(b)),
        ("LeaseGrant+fabric", new LeaseGrant(7, 2, 1 << 20, 1 << 20, 1, [new SegmentGrant("h:1", new Capability { SegmentId = 3 }, new FabricAddress("shm", [1, 2, 3], 7, 0x7f0000001000))]).Encode(), b => LeaseGrant.Decode(b)),
        ("LeaseHolder", new LeaseHolder(7, 1).Encode(), b => LeaseHolder.Decode(b)),
        ("LeasePublish", new LeasePublish(7, 1, "matrix", [1, 2, 3]).Encode(), b => LeasePublish.Decode(b)),
        ("LeaseOpen", new LeaseOpen("matrix", Rights.Read, 0).Encode(), b => LeaseOpen.Decode(b)),
        ("LeaseOpened", new LeaseOpened([9], new LeaseGrant(7, 3, 4096, 4096, 1, [new SegmentGrant("h:1", new Capability())])).Encode(), b => LeaseOpened.Decode(b)),
        ("LeaseLostEvent", new LeaseLostEvent(7, "donor died").Encode(), b => LeaseLostEvent.Decode(b)),
        ("SegmentAllocate", new SegmentAllocate(7, 4096).Encode(), b => SegmentAllocate.Decode(b)),
        ("SegmentAllocateReply", new SegmentAllocateReply(1, 8192).Encode(), b => SegmentAllocateReply.Decode(b)),
        ("SegmentFree", new SegmentFree(1).Encode(), b => SegmentFree.Decode(b)),
        ("SegmentMigrate", new SegmentMigrate(1, [new SegmentMigrate.Target("h:2", new Capability { SegmentId = 5, Length = 4096 }), new SegmentMigrate.Target("h:3", new Capability { SegmentId = 6 })], 500_000_000).Encode(), b => SegmentMigrate.Decode(b)),
    ];

    [Fact]
    public void Every_message_round_trips()
    {
        foreach (var (name, encoded, decode) in Samples)
        {
            var decoded = decode(encoded);
            var again = (byte[])decoded.GetType().GetMethod("Encode")!.Invoke(decoded, null)!;
            Assert.True(encoded.AsSpan().SequenceEqual(again), name);
        }
    }

    [Property(MaxTest = 300)]
    public bool Truncated_or_extended_encodings_are_refused(NonNegativeInt which, int cut, byte extra)
    {
        var (_, encoded, decode) = Samples[which.Get % Samples.Length];
        byte[] mutated = cut % 2 == 0
            ? encoded[..(Math.Abs(cut) % encoded.Length)]
            : [.. encoded, extra];
        try
        {
            decode(mutated);
            return false;
        }
        catch (WireException ex)
        {
            return ex.Code == ErrorCode.MalformedFrame;
        }
    }

    [Property(MaxTest = 500)]
    public bool Random_bytes_decode_or_fail_only_as_MalformedFrame(NonNegativeInt which, byte[] bytes)
    {
        var (_, _, decode) = Samples[which.Get % Samples.Length];
        try
        {
            decode(bytes ?? []);
            return true;
        }
        catch (WireException ex)
        {
            return ex.Code == ErrorCode.MalformedFrame;
        }
    }

    [Fact]
    public void A_string_longer_than_the_limit_is_refused_before_it_is_read()
    {
        var payload = new byte[2 + 8];
        payload[0] = 0xFF;
        payload[1] = 0xFF; // 65535 bytes claimed, 8 present
        var ex = Assert.Throws<WireException>(() => new WireReader(payload).ReadString());
        Assert.Equal(ErrorCode.MalformedFrame, ex.Code);
    }
}
