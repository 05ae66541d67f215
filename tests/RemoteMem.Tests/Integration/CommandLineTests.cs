using System.Diagnostics;
using RemoteMem.Cli.Internal;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Tests.Integration;

/// <summary>The `remotemem` commands as a user runs them: status against a running cluster, the demo, bad options.</summary>
[Collection(Processes.Name)]
public sealed class CommandLineTests
{
    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string? secret, params string[] args)
    {
        var (code, stdout, stderr) = await DotnetProgram.RunAsync(typeof(LocalCluster).Assembly.Location, secret, TimeSpan.FromMinutes(3), args);
        return (code, stdout, stderr);
    }

    [Fact]
    public async Task Status_lists_the_donors_of_a_running_cluster_as_a_table_and_as_json()
    {
        await using var cluster = await LocalCluster.StartAsync(2, "32MiB");
        var env = cluster.SecretText;

        var (code, table, errors) = await RunAsync(env, "status", "--manager", cluster.ManagerEndpoint);
        Assert.True(code == 0, errors);
        foreach (var donor in cluster.Donors) Assert.Contains(donor.Endpoint, table);
        Assert.Contains("alive", table);
        Assert.Contains("32 MiB", table);

        var (jsonCode, json, jsonErrors) = await RunAsync(env, "status", "--manager", cluster.ManagerEndpoint, "--json");
        Assert.True(jsonCode == 0, jsonErrors);
        var report = StatusReport.Decode(System.Text.Encoding.UTF8.GetBytes(json));
        Assert.Equal(cluster.Donors.Select(d => d.Endpoint).Order(), report.Donors.Select(d => d.Endpoint).Order());
        Assert.All(report.Donors, d => Assert.Equal(32L << 20, d.OfferedBytes));
    }

    [Fact]
    public async Task Status_without_the_secret_or_against_nothing_fails_with_a_message()
    {
        var (code, _, errors) = await RunAsync(null, "status", "--manager", "127.0.0.1:1");
        Assert.NotEqual(0, code);
        Assert.Contains("secret", errors);

        var env = new string('a', 64);
        (code, _, errors) = await RunAsync(env, "status", "--manager", "127.0.0.1:1");
        Assert.NotEqual(0, code);
        Assert.Contains("127.0.0.1:1", errors);
    }

    [Fact]
    public async Task A_donor_with_bad_options_exits_with_a_message_that_names_the_fix()
    {
        var env = new string('a', 64);
        var (code, _, errors) = await RunAsync(env, "donor", "--memory", "lots", "--listen", "127.0.0.1:0");
        Assert.Equal(2, code);
        Assert.Contains("--manager", errors);
        Assert.Contains("Donor:Memory 'lots'", errors);
    }

    [Fact]
    public async Task The_demo_verifies_every_byte_and_prints_bandwidth()
    {
        var (code, output, errors) = await RunAsync(null, "demo", "--size", "64MiB", "--block", "8MiB");
        Assert.True(code == 0, output + errors);
        Assert.Contains("every byte verified", output);
        Assert.Matches(@"read\s*: 64 MiB in [0-9.]+ s = [0-9.]+ GB/s", output);
    }
}
