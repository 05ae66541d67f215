using System.Diagnostics;
using RemoteMem.Client;

namespace RemoteMem.Perf.Suite;

/// <summary>
/// In the spirit of the paper's co-location experiment: a CPU-bound "batch job" (a fixed amount of
/// integer work on one thread) is timed alone and then while the donors serve reads at fixed rates.
/// Its slowdown is what lending idle memory costs the node's own job. On this 2-core machine the
/// client, donors and job share both cores, so the figure is an upper bound.
/// </summary>
internal static class Interference
{
    public static async Task RunAsync(SuiteOptions options, Report report, RemoteMemClient client)
    {
        long work = options.Quick ? 100_000_000 : 3_000_000_000;
        double alone = BatchJobSeconds(work);
        report.Add(new Figure("interference", "batch job alone", "s", alone, HigherIsBetter: false));
        await using var allocation = await client.AllocateAsync(64L << 20, new AllocationOptions { StripeCount = options.Donors });
        foreach (double rate in new[] { 0.1e9, 0.5e9, 1.0e9 })
        {
            using var stop = new CancellationTokenSource();
            long served = 0;
            var traffic = Task.Run(async () =>
            {
                var block = new byte[1 << 20];
                var clock = Stopwatch.StartNew();
                long offset = 0;
                while (!stop.IsCancellationRequested)
                {
                    // Pace to the target rate: a block whenever the budget allows, otherwise sleep.
                    if (served < rate * clock.Elapsed.TotalSeconds)
                    {
                        await allocation.ReadAsync(offset, block);
                        served += block.Length;
                        offset = (offset + block.Length) % allocation.Length;
                    }
                    else
                    {
                        await Task.Delay(1);
                    }
                }

                return served / clock.Elapsed.TotalSeconds;
            });
            double loaded = BatchJobSeconds(work);
            stop.Cancel();
            double achieved = await traffic;
            report.Add(new Figure("interference", $"batch job while serving {rate / 1e9:0.0} GB/s (achieved {achieved / 1e9:0.00})", "s", loaded, false, "batch job alone", alone));
        }
    }

    /// <summary>Wall time of a fixed amount of integer work on one thread.</summary>
    private static double BatchJobSeconds(long iterations)
    {
        var clock = Stopwatch.StartNew();
        ulong x = 88172645463325252UL;
        for (long i = 0; i < iterations; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }

        GC.KeepAlive(x);
        return clock.Elapsed.TotalSeconds;
    }
}
