using System.Security.Cryptography;

namespace RemoteMem.Wire;

/// <summary>
/// Challenge-response proofs for the handshake: each side proves it holds the cluster secret by a
/// MAC over both nonces, with a different label per direction so one proof cannot be reflected.
/// </summary>
public static class HandshakeProof
{
    public const int NonceSize = 16;

    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(NonceSize);

    public static byte[] Compute(ClusterSecret secret, bool fromServer, PeerRole role, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce)
    {
        Span<byte> input = stackalloc byte[2 + NonceSize * 2];
        input[0] = fromServer ? (byte)'S' : (byte)'C';
        input[1] = (byte)role;
        clientNonce.CopyTo(input[2..]);
        serverNonce.CopyTo(input[(2 + NonceSize)..]);
        return HMACSHA256.HashData(secret.HandshakeKey, input);
    }

    public static bool Matches(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual) =>
        expected.Length == actual.Length && CryptographicOperations.FixedTimeEquals(expected, actual);
}
