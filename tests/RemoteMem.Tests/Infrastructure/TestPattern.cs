namespace RemoteMem.Tests.Infrastructure;

/// <summary>Deterministic test data: every (seed, position) gives its own byte, so misplaced or stale data shows.</summary>
public static class TestPattern
{
    public static byte At(long position, int seed) => (byte)(((ulong)(position + 1) * 0x9E3779B97F4A7C15UL + (ulong)seed * 0xBF58476D1CE4E5B9UL) >> 56);

    public static byte[] Make(long offset, int length, int seed)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++) data[i] = At(offset + i, seed);
        return data;
    }
}
