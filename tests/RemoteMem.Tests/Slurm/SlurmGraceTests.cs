using RemoteMem.Cli.Slurm;

namespace RemoteMem.Tests.Slurm;

/// <summary>Fitting a donor's drain inside what Slurm gives it between SIGTERM and SIGKILL.</summary>
public sealed class SlurmGraceTests
{
    [Theory]
    [InlineData(5, 60, 4)]      // preemption's GraceTime is the shorter window; a second is kept for leaving
    [InlineData(0, 60, 48)]     // no GraceTime: the time-limit warning decides; a fifth is kept
    [InlineData(120, 30, 24)]
    [InlineData(2, 0, 1)]       // a tiny window: half of it
    public void The_drain_fits_the_shorter_window_with_a_margin(int graceSeconds, int leadSeconds, double expectedSeconds)
    {
        TimeSpan? grace = graceSeconds > 0 ? TimeSpan.FromSeconds(graceSeconds) : null;
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), SlurmGrace.DrainFor(grace, TimeSpan.FromSeconds(leadSeconds)));
    }

    [Fact]
    public void Without_either_window_the_donor_keeps_its_default() =>
        Assert.Null(SlurmGrace.DrainFor(null, TimeSpan.Zero));
}
