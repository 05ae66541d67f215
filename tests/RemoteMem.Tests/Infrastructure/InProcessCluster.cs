using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RemoteMem.Client;
using RemoteMem.Services;
using RemoteMem.Services.Donor;
using RemoteMem.Services.Manager;
using RemoteMem.Transport;
using RemoteMem.Wire;

namespace RemoteMem.Tests.Infrastructure;

/// <summary>
/// A real manager and real donors inside the test process, on loopback sockets with OS-chosen ports.
/// Same services as the `remotemem` processes run, without process start-up cost.
/// </summary>
public sealed class InProcessCluster : IAsyncDisposable
{
    private readonly List<DonorService> _donors = [];

    private InProcessCluster(ManagerService manager, ClusterSecret secret, string secretText)
    {
        Manager = manager;
        Secret = secret;
        SecretText = secretText;
    }

    public ManagerService Manager { get; }

    public IReadOnlyList<DonorService> Donors => _donors;

    public ClusterSecret Secret { get; }

    public string SecretText { get; }

    public string ManagerEndpoint => Manager.Endpoint;

    public static async Task<InProcessCluster> StartAsync(int donors, long donorBytes, Action<ManagerOptions>? configure = null)
    {
        var secret = ClusterSecret.Generate(out var text);
        // Generous failure detection: tests that block thread-pool threads (the Span APIs) can delay the
        // in-process donors' heartbeats by seconds on two cores. Death detection is tested with processes.
        var options = new ManagerOptions { Listen = "127.0.0.1:0", HeartbeatInterval = TimeSpan.FromMilliseconds(500), DonorTimeout = TimeSpan.FromSeconds(15) };
        configure?.Invoke(options);
        var manager = new ManagerService(Options.Create(options), Options.Create(new ClusterOptions { Secret = text }), NullLogger<ManagerService>.Instance);
        await manager.StartAsync(CancellationToken.None);
        var cluster = new InProcessCluster(manager, secret, text);
        for (int i = 0; i < donors; i++) await cluster.AddDonorAsync(donorBytes);
        return cluster;
    }

    public async Task<DonorService> AddDonorAsync(long bytes)
    {
        var donor = new DonorService(
            Options.Create(new DonorOptions { Manager = ManagerEndpoint, Listen = "127.0.0.1:0", Memory = bytes.ToString(), StopGrace = TimeSpan.FromSeconds(2) }),
            Options.Create(new ClusterOptions { Secret = SecretText }),
            NullLogger<DonorService>.Instance);
        await donor.StartAsync(CancellationToken.None);
        await donor.Ready.WaitAsync(TimeSpan.FromSeconds(30));
        _donors.Add(donor);
        return donor;
    }

    public RemoteMemClientOptions ClientOptions() => new() { Manager = ManagerEndpoint, Secret = Secret, DataTimeout = TimeSpan.FromSeconds(10) };

    public Task<RemoteMemClient> ConnectAsync() => RemoteMemClient.ConnectAsync(ClientOptions());

    public async ValueTask DisposeAsync()
    {
        foreach (var donor in _donors)
        {
            await donor.StopAsync(CancellationToken.None);
            donor.Dispose();
        }

        await Manager.StopAsync(CancellationToken.None);
        Manager.Dispose();
    }
}
