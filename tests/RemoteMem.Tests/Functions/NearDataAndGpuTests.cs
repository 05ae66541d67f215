using RemoteMem.Client;
using RemoteMem.Client.Functions;
using RemoteMem.Samples.Functions;

namespace RemoteMem.Tests.Functions;

/// <summary>Functions that compute where the data is (the donor's own memory) and on an accelerator.</summary>
[Collection(Infrastructure.Processes.Name)]
public sealed class NearDataAndGpuTests
{
    [Fact]
    public async Task A_near_data_function_reads_exactly_what_the_client_wrote_on_its_donor()
    {
        await using var cluster = await FunctionCluster.StartAsync(donors: 2, cores: 2);
        await using var client = await cluster.ConnectAsync();
        const int length = 1 << 20;
        await using var allocation = await client.AllocateAsync(length, new AllocationOptions { StripeCount = 2, StripeSize = 64 << 10 });
        var written = new byte[length];
        new Random(5).NextBytes(written);
        await allocation.WriteAsync(0, written);

        await using var lease = await client.LeaseExecutorAsync(FunctionCluster.Options(nearData: [allocation]));
        Assert.Equal(new[] { 1, 1 }, await lease.InvokeAsync<int, int[]>("describe", 0)); // 1 core, the one column on this donor

        // Read the whole allocation back from inside the executor, in pieces that fit an answer.
        int held = 0;
        for (int offset = 0; offset < length; offset += 256 << 10)
        {
            var (bytes, mask) = await lease.InvokeAsync<(long, int), (byte[], bool[])>("near-read", (offset, 256 << 10));
            for (int i = 0; i < bytes.Length; i++)
            {
                if (!mask[i]) continue;
                held++;
                Assert.True(written[offset + i] == bytes[i], $"byte {offset + i} differs");
            }
        }

        // Two donors, two columns: this donor holds one, half the bytes.
        Assert.Equal(length / 2, held);

        // And a function writes in place: the client reads what it wrote on this donor, and its own bytes elsewhere.
        Assert.Equal(length / 2, await lease.InvokeAsync<byte, long>("near-fill", 0xAB));
        var after = new byte[length];
        await allocation.ReadAsync(0, after);
        int filled = 0;
        for (int i = 0; i < length; i++)
        {
            if (after[i] == 0xAB && written[i] != 0xAB) filled++;
            else Assert.True(after[i] == written[i] || after[i] == 0xAB, $"byte {i} is neither the client's nor the function's");
        }

        Assert.InRange(filled, length / 2 - length / 200, length / 2);
    }

    [Fact]
    public async Task Freeing_the_memory_under_a_near_data_executor_stops_the_executor_first()
    {
        await using var cluster = await FunctionCluster.StartAsync(cores: 2);
        await using var client = await cluster.ConnectAsync();
        var allocation = await client.AllocateAsync(1 << 20);
        await using var lease = await client.LeaseExecutorAsync(FunctionCluster.Options(nearData: [allocation]));
        Assert.Equal(1L << 20, await lease.InvokeAsync<byte, long>("near-fill", 1));

        // Released: the pages will go to other tenants, so the executor that maps them must go first.
        await allocation.DisposeAsync();
        await ExecutorProcesses.WaitGoneAsync(lease.LeaseId, TimeSpan.FromSeconds(20));
        await Assert.ThrowsAsync<ExecutorLostException>(() => lease.InvokeAsync<byte, long>("near-fill", 2).AsTask());

        // The next tenant of the memory reads zeros, not what the executor wrote.
        await using var next = await client.AllocateAsync(1 << 20);
        var back = new byte[1 << 20];
        await next.ReadAsync(0, back);
        Assert.All(back, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Map_on_donors_sums_an_array_where_it_lives_and_matches_the_local_sum()
    {
        await using var cluster = await FunctionCluster.StartAsync(donors: 2, cores: 2);
        await using var client = await cluster.ConnectAsync();
        const int length = 300_000;
        await using var array = await client.CreateArrayAsync<double>(length, new RemoteArrayOptions { StripeCount = 2 });
        var values = Enumerable.Range(0, length).Select(i => (double)(i % 1000)).ToArray();
        array.Write(0, values);

        var partials = await array.MapOnDonorsAsync<double, int, double>(client, FunctionCluster.Package, "near-sum", 0);
        Assert.Equal(2, partials.Count);
        Assert.Equal(values.Sum(), partials.Sum());
    }

    [Fact]
    public async Task A_gpu_lease_runs_an_ILGPU_kernel_on_the_donors_accelerator_and_a_lease_without_gpus_is_told_so()
    {
        await using var cluster = await FunctionCluster.StartAsync(cores: 2, gpus: 1);
        await using var client = await cluster.ConnectAsync();
        var package = FunctionPackage.FromAssembly(typeof(SaxpyFunction).Assembly); // samples/Functions
        await using var gpu = await client.LeaseExecutorAsync(new ExecutorLeaseOptions { Package = package, Gpus = 1 });
        var x = Enumerable.Range(0, 100_000).Select(i => (float)i).ToArray();
        var y = Enumerable.Range(0, 100_000).Select(i => (float)(i % 7)).ToArray();
        for (int round = 0; round < 2; round++) // the second run uses the cached kernel
        {
            var result = await gpu.InvokeAsync<SaxpyRequest, float[]>("saxpy", new SaxpyRequest { A = 2f, X = x, Y = y }, TimeSpan.FromMinutes(2));
            for (int i = 0; i < x.Length; i++) Assert.Equal(2f * x[i] + y[i], result[i]);
        }

        var statistics = await gpu.GetStatisticsAsync();
        Assert.Contains("CPU", statistics.Accelerator); // no GPU on CI machines: ILGPU's CPU accelerator stands in

        await using var cpuOnly = await client.LeaseExecutorAsync(new ExecutorLeaseOptions { Package = package });
        var error = await Assert.ThrowsAsync<FunctionFailedException>(() => cpuOnly.InvokeAsync<SaxpyRequest, float[]>("saxpy", new SaxpyRequest { A = 1f, X = x, Y = y }).AsTask());
        Assert.Contains("no GPUs", error.Message);
    }
}
