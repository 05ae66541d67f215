using System.Security.Cryptography;

namespace RemoteMem.Wire;

/// <summary>Signs capabilities (the manager) and verifies them (donors) with the cluster's capability key.</summary>
public sealed class CapabilityAuthority(ClusterSecret secret)
{
    private readonly byte[] _key = secret.CapabilityKey;

    public Capability Sign(Capability capability)
    {
        Span<byte> signed = stackalloc byte[Capability.SignedSize];
        capability.WriteSigned(signed);
        HMACSHA256.HashData(_key, signed, capability.Mac);
        return capability;
    }

    /// <summary>
    /// Checks the MAC (constant time) and the expiry. The caller still checks that the segment is live
    /// and that the requested range and rights fit.
    /// </summary>
    public ErrorCode Verify(in Capability capability, long nowUnixMs)
    {
        Span<byte> signed = stackalloc byte[Capability.SignedSize];
        Span<byte> expected = stackalloc byte[Capability.MacSize];
        capability.WriteSigned(signed);
        HMACSHA256.HashData(_key, signed, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, capability.Mac))
            return ErrorCode.CapabilityInvalid;
        return capability.ExpiresUnixMs <= nowUnixMs ? ErrorCode.CapabilityExpired : ErrorCode.Ok;
    }
}
