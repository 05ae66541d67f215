using System.Diagnostics;
using FsCheck;
using FsCheck.Xunit;
using RemoteMem.Cli.Slurm;

namespace RemoteMem.Tests.Slurm;

/// <summary>The batch script `remotemem slurm donate` submits, and the shell quoting it relies on.</summary>
public sealed class DonorJobSpecTests
{
    private static DonorJobSpec Spec(string memory = "2GiB") => new()
    {
        Remotemem = ["/opt/remote mem/remotemem"],
        Manager = "login1:7600",
        SecretFile = "/shared/secret",
        Memory = memory,
        Cores = 2,
        Partition = "scavenger",
        TimeLimit = "1:00:00",
        SignalLead = TimeSpan.FromSeconds(90),
        LogDirectory = "/shared/logs",
    };

    [Fact]
    public void The_script_asks_for_the_donated_memory_plus_overhead_and_a_TERM_before_the_time_limit()
    {
        var script = Spec().BatchScript();

        Assert.StartsWith("#!/bin/sh\n", script);
        Assert.Contains("#SBATCH --mem=2304M\n", script); // 2 GiB + 256 MiB
        Assert.Contains("#SBATCH --cpus-per-task=2\n", script);
        Assert.Contains("#SBATCH --partition=scavenger\n", script);
        Assert.Contains("#SBATCH --time=1:00:00\n", script);
        Assert.Contains("#SBATCH --signal=TERM@90\n", script);
        Assert.Contains("#SBATCH --output=/shared/logs/remotemem-donor-%j.out\n", script);
        // The donor runs as a step so that scancel --signal=TERM and the time-limit warning reach it.
        Assert.Contains("exec srun --ntasks=1 '/opt/remote mem/remotemem' 'donor' '--memory' '2GiB' '--cores' '2'", script);
        Assert.Contains("'--manager' 'login1:7600' '--secret-file' '/shared/secret'", script);
    }

    [Fact]
    public void A_directive_value_with_white_space_is_refused_because_sbatch_cannot_read_it()
    {
        var spec = Spec() with { Partition = "two words" };
        var ex = Assert.Throws<ArgumentException>(spec.BatchScript);
        Assert.Contains("--partition", ex.Message);
    }

    [Fact]
    public void Donors_inside_an_allocation_run_as_one_overlapping_step()
    {
        var args = Spec().OverlapStep(3);
        Assert.Equal(["--overlap", "--ntasks=3", "--cpus-per-task=2", "--job-name=remotemem-donor", "/opt/remote mem/remotemem", "donor"], args.Take(6));
    }

    /// <summary>Whatever a path or option contains, the shell hands the donor exactly that word.</summary>
    [Property(MaxTest = 60)]
    public bool Quoting_survives_a_real_shell_for_any_word(NonNull<string> generated)
    {
        // A command-line argument cannot hold NUL, nor (as UTF-8) half a surrogate pair; everything else must come through.
        var word = new string(generated.Get.Select(c => c == '\0' || char.IsSurrogate(c) ? '0' : c).ToArray());
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("printf %s " + DonorJobSpec.Quote(word));
        using var shell = Process.Start(info)!;
        var output = shell.StandardOutput.ReadToEnd();
        shell.WaitForExit();
        return output == word;
    }
}
