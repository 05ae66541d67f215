using System.Diagnostics;
using RemoteMem.Tests.Infrastructure;

namespace RemoteMem.Tests.Integration;

/// <summary>The samples run as a user runs them and verify their own results (so they cannot rot).</summary>
[Collection(Processes.Name)]
public sealed class SampleTests
{
    private static Task<string> RunSampleAsync(string assembly, params string[] args) => RunSampleWithSecretAsync(assembly, null, args);

    private static async Task<string> RunSampleWithSecretAsync(string assembly, string? secret, params string[] args)
    {
        var run = await DotnetProgram.RunAsync(assembly, secret, TimeSpan.FromMinutes(3), args);
        Assert.True(run.ExitCode == 0, $"{assembly} exited {run.ExitCode}:\n{run.Stdout}\n{run.Stderr}");
        return run.Stdout;
    }

    [Fact]
    public async Task LargeArray_computes_out_of_core_and_matches_the_local_result() =>
        Assert.Contains("Verified: all 1,048,576 elements equal the local computation.", await RunSampleAsync("LargeArray.dll", "1048576", "3"));

    [Fact]
    public async Task HelloRemoteMem_runs_against_a_running_cluster()
    {
        await using var cluster = await InProcessCluster.StartAsync(donors: 2, donorBytes: 512L << 20);
        var output = await RunSampleWithSecretAsync("HelloRemoteMem.dll", cluster.SecretText, cluster.ManagerEndpoint);
        Assert.Contains("read back what was written", output);
    }

    [Fact]
    public async Task KeyValueCache_memoizes_and_every_cached_result_is_right()
    {
        var output = await RunSampleAsync("KeyValueCache.dll");
        Assert.Matches(@"\d+ hits \(\d+\.\d%\)", output);
        Assert.Contains("Verified: all", output);
    }

    [Fact]
    public async Task ComputeOffload_prices_on_local_and_remote_cores_and_matches_the_local_prices_bit_for_bit()
    {
        var output = await RunSampleAsync("ComputeOffload.dll", "20000", "2", "1000");
        Assert.Matches(@"Speedup over local only: +\d+\.\d\dx", output);
        Assert.Contains("Verified: all 20,000 prices equal the local computation.", output);
    }

    [Fact]
    public async Task NearDataReduction_sums_on_the_donors_and_matches_the_sum_pulled_to_the_client()
    {
        var output = await RunSampleAsync("NearDataReduction.dll", "262144");
        Assert.Matches(@"Partial sums: +\d+ \+ \d+", output);
        Assert.Contains("Verified: the near-data sum equals the pulled sum and the values written", output);
    }

    [Fact]
    public async Task GpuOffload_runs_saxpy_on_the_leased_accelerator_and_matches_the_local_result()
    {
        var output = await RunSampleAsync("GpuOffload.dll", "300000");
        Assert.Matches(@"Accelerator: \S+", output);
        Assert.Contains("Verified: all 300,000 elements equal the local computation", output);
    }
}
