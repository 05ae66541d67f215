using RemoteMem.Transport.Internal;

namespace RemoteMem.Tests.Transport;

public class ExpiryClockTests
{
    [Fact]
    public async Task The_expiry_clock_never_runs_behind_the_wall_clock_and_leads_it_by_little()
    {
        // Over several refresh periods: an estimate behind the wall clock would let an expired capability
        // through; one far ahead would refuse live ones. Counted in samples, not time: next to the other
        // tests a 3 ms delay can take tens of milliseconds.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int samples = 0;
        while (samples < 100 && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            long estimate = ExpiryClock.UnixMilliseconds;
            long after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await Task.Delay(3);
            if (after - before > 1) continue; // descheduled between the reads: no bound to check against
            Assert.True(estimate >= after, $"estimate {estimate} is behind the wall clock {after}");
            Assert.True(estimate <= before + 25, $"estimate {estimate} leads the wall clock {before} by more than 25 ms");
            samples++;
        }

        Assert.True(samples >= 100, $"only {samples} undisturbed samples in 30 s");
    }
}
