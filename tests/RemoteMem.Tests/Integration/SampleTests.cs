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
}
