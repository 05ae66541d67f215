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

    /// <summary>Invocations per latency round; the function figures keep the best of <see cref="InvocationRounds"/> rounds.</summary>
    public int InvocationSamples => Quick ? 2000 : 20_000;

    public int InvocationRounds => Quick ? 3 : 5;

    /// <summary>Echo payloads (bytes each way) of the invocation latency figures.</summary>
    public int[] InvocationPayloads => [1, 1 << 10, 64 << 10];

    /// <summary>Invocations per latency round for a payload: a quarter of <see cref="InvocationSamples"/> from 64 KiB up (each call moves the payload twice).</summary>
    public int InvocationSamplesFor(int payload) => payload >= 64 << 10 ? InvocationSamples / 4 : InvocationSamples;

    /// <summary>Doubles in the near-data reduction's array (as many bytes as the array experiments'), striped over the donors.</summary>
    public long NearDataElements => ArrayBytes / sizeof(double);

    /// <summary>Options in the hybrid Black-Scholes batch, each priced <see cref="HybridPricingRounds"/> times.</summary>
    public int HybridOptions => Quick ? 100_000 : 1_000_000;

    /// <summary>PARSEC's NUM_RUNS: pricing is repeated so that computing, not moving the inputs, dominates.</summary>
    public int HybridPricingRounds => 100;

    /// <summary>Options per chunk: a few milliseconds of pricing, so a call's fixed cost is small next to it.</summary>
    public int HybridChunk => Quick ? 1000 : 2500;
}
