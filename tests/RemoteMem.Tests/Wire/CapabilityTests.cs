using RemoteMem.Wire;

namespace RemoteMem.Tests.Wire;

public sealed class CapabilityTests
{
    private static readonly CapabilityAuthority Authority = new(ClusterSecret.Generate(out _));

    private static Capability Sample(long expires) => Authority.Sign(new Capability
    {
        LeaseId = 1, DonorId = 2, SegmentId = 3, PoolOffset = 4096, Length = 1 << 20, ExpiresUnixMs = expires, Rights = Rights.ReadWrite,
    });

    [Fact]
    public void A_signed_capability_verifies_and_round_trips()
    {
        var capability = Sample(long.MaxValue);
        var bytes = new byte[Capability.Size];
        capability.Write(bytes);
        Assert.Equal(capability, Capability.Read(bytes));
        Assert.Equal(ErrorCode.Ok, Authority.Verify(Capability.Read(bytes), 0));
    }

    [Fact]
    public void Changing_any_signed_byte_breaks_the_mac()
    {
        var bytes = new byte[Capability.Size];
        Sample(long.MaxValue).Write(bytes);
        for (int i = 0; i < Capability.Size; i++)
        {
            var forged = bytes.ToArray();
            forged[i] ^= 1;
            Assert.Equal(ErrorCode.CapabilityInvalid, Authority.Verify(Capability.Read(forged), 0));
        }
    }

    [Fact]
    public void Another_clusters_secret_does_not_verify_and_expiry_is_enforced()
    {
        var other = new CapabilityAuthority(ClusterSecret.Generate(out _));
        Assert.Equal(ErrorCode.CapabilityInvalid, other.Verify(Sample(long.MaxValue), 0));
        Assert.Equal(ErrorCode.CapabilityExpired, Authority.Verify(Sample(1000), 1000));
    }

    [Fact]
    public void Secrets_parse_from_hex_and_base64_and_short_ones_are_refused()
    {
        ClusterSecret.Generate(out var hex);
        Assert.Equal(ClusterSecret.Parse(hex).Fingerprint, ClusterSecret.Parse(Convert.ToBase64String(Convert.FromHexString(hex))).Fingerprint);
        Assert.Contains("remotemem secret", Assert.Throws<FormatException>(() => ClusterSecret.Parse("abcd")).Message);
    }
}
