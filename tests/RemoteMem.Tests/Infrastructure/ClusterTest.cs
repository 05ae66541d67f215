using RemoteMem.Client;

namespace RemoteMem.Tests.Infrastructure;

/// <summary>A test class with its own in-process cluster and a connected client, started once for the class's tests.</summary>
public abstract class ClusterTest(int donors, long donorBytes) : IAsyncLifetime
{
    protected InProcessCluster Cluster { get; private set; } = null!;

    protected RemoteMemClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await InProcessCluster.StartAsync(donors, donorBytes);
        Client = await Cluster.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await Client.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}
