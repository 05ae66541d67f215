using MemoryPack;

namespace RemoteMem.Samples.Functions;

/// <summary>
/// European options as parallel arrays (structure of arrays, as PARSEC's blackscholes keeps them):
/// spot price S, strike K, years to expiry T, risk-free rate r, volatility sigma, and call or put.
/// </summary>
[MemoryPackable]
public sealed partial class OptionBatch
{
    public double[] Spot { get; set; } = [];

    public double[] Strike { get; set; } = [];

    public double[] Years { get; set; } = [];

    public double[] Rate { get; set; } = [];

    public double[] Volatility { get; set; } = [];

    public bool[] IsCall { get; set; } = [];

    /// <summary>
    /// How many times to price the batch (PARSEC's NUM_RUNS): benchmarks repeat the computation so that
    /// pricing, not moving the inputs, dominates. 1 for real use; every round gives the same prices.
    /// </summary>
    public int Rounds { get; set; } = 1;

    [MemoryPackIgnore]
    public int Count => Spot.Length;

    /// <summary>Throws <see cref="ArgumentException"/> unless all arrays have the same length and <see cref="Rounds"/> is positive.</summary>
    public void Validate()
    {
        int n = Spot.Length;
        if (Strike.Length != n || Years.Length != n || Rate.Length != n || Volatility.Length != n || IsCall.Length != n)
            throw new ArgumentException($"An option batch needs equal-length arrays; got S {n}, K {Strike.Length}, T {Years.Length}, r {Rate.Length}, sigma {Volatility.Length}, call/put {IsCall.Length}.");
        if (Rounds < 1) throw new ArgumentException($"Rounds must be at least 1 (got {Rounds}).");
    }

    /// <summary>A copy of options [start, start + count), for sending one chunk to an executor.</summary>
    public OptionBatch Slice(int start, int count) => new()
    {
        Spot = Spot.AsSpan(start, count).ToArray(),
        Strike = Strike.AsSpan(start, count).ToArray(),
        Years = Years.AsSpan(start, count).ToArray(),
        Rate = Rate.AsSpan(start, count).ToArray(),
        Volatility = Volatility.AsSpan(start, count).ToArray(),
        IsCall = IsCall.AsSpan(start, count).ToArray(),
        Rounds = Rounds,
    };

    /// <summary>
    /// <paramref name="count"/> options with parameters in the ranges of PARSEC's input sets, the same for
    /// the same <paramref name="seed"/>.
    /// </summary>
    public static OptionBatch Generate(int count, int seed, int rounds = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = new Random(seed);
        var batch = new OptionBatch
        {
            Spot = new double[count], Strike = new double[count], Years = new double[count],
            Rate = new double[count], Volatility = new double[count], IsCall = new bool[count], Rounds = rounds,
        };
        for (int i = 0; i < count; i++)
        {
            batch.Spot[i] = 10 + 190 * random.NextDouble();
            batch.Strike[i] = batch.Spot[i] * (0.7 + 0.6 * random.NextDouble());
            batch.Years[i] = 0.05 + 2.95 * random.NextDouble();
            batch.Rate[i] = 0.01 + 0.09 * random.NextDouble();
            batch.Volatility[i] = 0.05 + 0.6 * random.NextDouble();
            batch.IsCall[i] = random.Next(2) == 0;
        }

        return batch;
    }
}
