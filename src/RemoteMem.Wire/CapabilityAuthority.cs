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

    /// <summary>Signs an executor ticket: <see cref="ExecutorTicket.Size"/> bytes, the signed fields then the MAC.</summary>
    public byte[] Sign(in ExecutorTicket ticket)
    {
        var bytes = new byte[ExecutorTicket.Size];
        ticket.WriteSigned(bytes);
        TicketMac(bytes.AsSpan(0, ExecutorTicket.SignedSize), bytes.AsSpan(ExecutorTicket.SignedSize));
        return bytes;
    }

    /// <summary>Checks a signed ticket's MAC and expiry and returns its fields.</summary>
    public ErrorCode Verify(ReadOnlySpan<byte> signedTicket, long nowUnixMs, out ExecutorTicket ticket)
    {
        ticket = default;
        if (signedTicket.Length != ExecutorTicket.Size) return ErrorCode.CapabilityInvalid;
        Span<byte> expected = stackalloc byte[Capability.MacSize];
        TicketMac(signedTicket[..ExecutorTicket.SignedSize], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, signedTicket[ExecutorTicket.SignedSize..]))
            return ErrorCode.CapabilityInvalid;
        ticket = ExecutorTicket.ReadSigned(signedTicket);
        return ticket.ExpiresUnixMs <= nowUnixMs ? ErrorCode.CapabilityExpired : ErrorCode.Ok;
    }

    /// <summary>
    /// The key a client and its executor authenticate their connections with (the handshake's secret):
    /// derived from the signed ticket, so the manager (which gives it to the client) and the donor (which
    /// gives it to the executor) agree without sending it to the donor, and the executor, which runs user
    /// code, never holds the cluster secret.
    /// </summary>
    public byte[] ExecutorKey(ReadOnlySpan<byte> signedTicket)
    {
        Span<byte> input = stackalloc byte[1 + ExecutorTicket.Size];
        input[0] = (byte)'K';
        signedTicket.CopyTo(input[1..]);
        return HMACSHA256.HashData(_key, input);
    }

    // A domain byte keeps a ticket's MAC from ever verifying as a capability's, or as a key.
    private void TicketMac(ReadOnlySpan<byte> signed, Span<byte> mac)
    {
        Span<byte> input = stackalloc byte[1 + ExecutorTicket.SignedSize];
        input[0] = (byte)'X';
        signed.CopyTo(input[1..]);
        HMACSHA256.HashData(_key, input, mac);
    }
}
