namespace RemoteMem.Perf.Suite;

/// <summary>What to run and how big.</summary>
internal sealed record SuiteOptions(bool Quick, int[] BlockSizes, TimeSpan Duration, int Donors, string OutputDirectory)
{
    /// <summary>Bytes each segment experiment leases.</summary>
    public long SegmentBytes => Quick ? 32L << 20 : 512L << 20;

    /// <summary>Array length (bytes) for the array experiments; the cache is an eighth of it.</summary>
    public long ArrayBytes => Quick ? 32L << 20 : 512L << 20;

    public int LatencySamples => Quick ? 300 : 5000;

    public int KvKeys => Quick ? 2000 : 50_000;
}
