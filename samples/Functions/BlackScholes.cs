using System.Runtime.CompilerServices;
using RemoteMem.Functions;

namespace RemoteMem.Samples.Functions;

/// <summary>
/// Black-Scholes prices of European options without dividends, written as PARSEC's blackscholes
/// (a polynomial approximation of the normal CDF). Clients price chunks locally with <see cref="Price(OptionBatch, int, Span{double})"/>
/// and remotely with the "black-scholes" function: the same code, so the same bits on the same runtime.
/// </summary>
public static class BlackScholes
{
    private const double InverseSqrt2Pi = 0.39894228040143270286;

    /// <summary>Prices options [start, start + prices.Length) of <paramref name="batch"/> into <paramref name="prices"/>, <see cref="OptionBatch.Rounds"/> times.</summary>
    // Fully optimized from the first call (no tiered JIT): a short run would otherwise time tier-0 code
    // on one side and optimized code on the other, and compare JIT states instead of cores.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Price(OptionBatch batch, int start, Span<double> prices)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        if (start + prices.Length > batch.Count)
            throw new ArgumentOutOfRangeException(nameof(prices), $"Options [{start}, {start + prices.Length}) are outside the batch of {batch.Count}.");
        for (int round = 0; round < batch.Rounds; round++)
            for (int i = 0; i < prices.Length; i++)
            {
                int o = start + i;
                prices[i] = Price(batch.Spot[o], batch.Strike[o], batch.Years[o], batch.Rate[o], batch.Volatility[o], batch.IsCall[o]);
            }
    }

    /// <summary>One option's price.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Price(double spot, double strike, double years, double rate, double volatility, bool isCall)
    {
        double sqrtYears = Math.Sqrt(years);
        double d1 = (Math.Log(spot / strike) + (rate + 0.5 * volatility * volatility) * years) / (volatility * sqrtYears);
        double d2 = d1 - volatility * sqrtYears;
        double discountedStrike = strike * Math.Exp(-rate * years);
        double n1 = NormalCdf(d1), n2 = NormalCdf(d2);
        return isCall ? spot * n1 - discountedStrike * n2 : discountedStrike * (1 - n2) - spot * (1 - n1);
    }

    // Abramowitz and Stegun 26.2.17 (absolute error below 7.5e-8), as PARSEC computes it.
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static double NormalCdf(double x)
    {
        bool negative = x < 0;
        x = Math.Abs(x);
        double k = 1.0 / (1.0 + 0.2316419 * x);
        double polynomial = k * (0.319381530 + k * (-0.356563782 + k * (1.781477937 + k * (-1.821255978 + k * 1.330274429))));
        double cdf = 1.0 - Math.Exp(-0.5 * x * x) * InverseSqrt2Pi * polynomial;
        return negative ? 1.0 - cdf : cdf;
    }
}

/// <summary>"black-scholes": prices a batch of options (typed: <see cref="OptionBatch"/> in, one price per option out).</summary>
[RemoteFunction("black-scholes")]
public sealed class BlackScholesFunction : TypedFunction<OptionBatch, double[]>
{
    public override double[] Invoke(OptionBatch input, FunctionContext context)
    {
        input.Validate();
        var prices = new double[input.Count];
        BlackScholes.Price(input, 0, prices);
        return prices;
    }
}
