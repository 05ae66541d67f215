using RemoteMem.Client.Functions;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Tests.Transport;
using Xunit.Abstractions;

namespace RemoteMem.Tests.Functions;

/// <summary>
/// A call into a caller's buffer allocates nothing in steady state: slots, the request, the answer's
/// copy and the async state are all pooled (the executor is another process; this measures the client).
/// </summary>
[Collection(Isolated.Name)]
public sealed class InvocationAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Ten_thousand_invocations_into_a_buffer_allocate_nothing_per_call()
    {
        ReleaseBuild.Require();
        await using var cluster = await InProcessCluster.StartAsync(donors: 1, donorBytes: 16L << 20, o =>
        {
            o.HeartbeatInterval = TimeSpan.FromSeconds(1);
            o.DonorTimeout = TimeSpan.FromSeconds(10);
        }, d => d.Cores = 2);
        await using var client = await cluster.ConnectAsync();
        await using var lease = await client.LeaseExecutorAsync(new ExecutorLeaseOptions { Package = FunctionCluster.Package, Cores = 1 });
        var input = new byte[64];
        var answer = new byte[64];

        async Task Run(int calls)
        {
            for (int i = 0; i < calls; i++)
            {
                input[0] = (byte)i;
                int length = await lease.InvokeAsync("echo", input, answer);
                if (length != input.Length || answer[0] != (byte)i) Assert.Fail($"call {i}: wrong answer");
            }
        }

        using var sampler = new AllocationSampler();
        var (least, windows) = await AllocationWindows.MeasureAsync(Run, 10_000, warmup: 3000);
        output.WriteLine($"bytes allocated per 10,000 calls, five windows: {string.Join(", ", windows)}");
        Assert.True(least < 48_000, $"{least} bytes allocated over 10,000 calls at best ({string.Join(", ", windows)}); sampled types: {sampler.Report()}");
    }
}
