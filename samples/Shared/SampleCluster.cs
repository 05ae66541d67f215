using RemoteMem.Client;
using RemoteMem.Services;

namespace RemoteMem.Samples;

/// <summary>
/// Where a sample runs: an embedded cluster in this process (a manager and donors on loopback; their
/// executors are child processes) unless the command line names a running cluster with
/// <c>--manager HOST:PORT</c> (the secret then comes from REMOTEMEM_SECRET). Shared by the function samples.
/// </summary>
internal sealed class SampleCluster : IAsyncDisposable
{
    private readonly EmbeddedCluster? _embedded;

    private SampleCluster(EmbeddedCluster? embedded, RemoteMemClient client)
    {
        _embedded = embedded;
        Client = client;
    }

    /// <summary>The one client of the sample: hold it and reuse it.</summary>
    public RemoteMemClient Client { get; }

    /// <summary>
    /// Splits <c>--manager HOST:PORT</c> off <paramref name="args"/>; the rest are the sample's positional
    /// arguments. Throws <see cref="ArgumentException"/> when the option has no value.
    /// </summary>
    public static (string? Manager, string[] Positional) ParseArguments(string[] args)
    {
        string? manager = null;
        var rest = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] != "--manager")
            {
                rest.Add(args[i]);
                continue;
            }

            if (i + 1 >= args.Length) throw new ArgumentException("--manager needs a value: --manager HOST:PORT.");
            manager = args[++i];
        }

        return (manager, [.. rest]);
    }

    /// <summary>
    /// Connects to <paramref name="manager"/>, or starts an embedded cluster of <paramref name="donors"/>
    /// donors offering <paramref name="bytesPerDonor"/>, <paramref name="coresPerDonor"/> cores and
    /// <paramref name="gpusPerDonor"/> GPUs each, and says which on standard output.
    /// </summary>
    public static async Task<SampleCluster> StartAsync(string? manager, int donors, long bytesPerDonor, int coresPerDonor, int gpusPerDonor = 0)
    {
        if (manager is not null)
        {
            Console.WriteLine($"Cluster: the running manager at {manager}.");
            return new SampleCluster(null, await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = manager }));
        }

        Console.WriteLine($"Embedded cluster: a manager and {donors} donor(s) in this process, {coresPerDonor} core(s) and {gpusPerDonor} GPU(s) each for functions.");
        var cluster = await EmbeddedCluster.StartAsync(donors, bytesPerDonor, configureDonor: d =>
        {
            d.Cores = coresPerDonor;
            d.Gpus = gpusPerDonor;
        });
        try
        {
            return new SampleCluster(cluster, await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret }));
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        if (_embedded is not null) await _embedded.DisposeAsync();
    }
}
