using RemoteMem.Client;
using RemoteMem.Services;
using RemoteMem.Services.Donor;
using RemoteMem.Services.Manager;
using RemoteMem.Wire;

namespace RemoteMem.Tests.Infrastructure;

/// <summary>
/// A real manager and real donors inside the test process (<see cref="EmbeddedCluster"/>), on loopback
/// sockets, plus the client options that reach them.
/// </summary>
public sealed class InProcessCluster : IAsyncDisposable
{
    private readonly EmbeddedCluster _cluster;

    private InProcessCluster(EmbeddedCluster cluster) => _cluster = cluster;

    public ManagerService Manager => _cluster.Manager;

    public IReadOnlyList<DonorService> Donors => _cluster.Donors;

    public ClusterSecret Secret => _cluster.Secret;

    public string SecretText => _cluster.SecretText;

    public string ManagerEndpoint => _cluster.ManagerEndpoint;

    public static async Task<InProcessCluster> StartAsync(int donors, long donorBytes, Action<ManagerOptions>? configure = null, Action<DonorOptions>? configureDonor = null) =>
        new(await EmbeddedCluster.StartAsync(donors, donorBytes, options =>
        {
            // Generous failure detection: tests that block thread-pool threads (the Span APIs) can delay the
            // in-process donors' heartbeats by seconds on two cores. Death detection is tested with processes.
            options.HeartbeatInterval = TimeSpan.FromMilliseconds(500);
            options.DonorTimeout = TimeSpan.FromSeconds(15);
            configure?.Invoke(options);
        }, configureDonor));

    public Task<DonorService> AddDonorAsync(long bytes) => _cluster.AddDonorAsync(bytes);

    public RemoteMemClientOptions ClientOptions() => new() { Manager = ManagerEndpoint, Secret = Secret, DataTimeout = TimeSpan.FromSeconds(10) };

    public Task<RemoteMemClient> ConnectAsync() => RemoteMemClient.ConnectAsync(ClientOptions());

    public ValueTask DisposeAsync() => _cluster.DisposeAsync();
}
