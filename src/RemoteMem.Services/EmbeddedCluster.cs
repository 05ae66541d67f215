using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RemoteMem.Services.Donor;
using RemoteMem.Services.Manager;
using RemoteMem.Wire;

namespace RemoteMem.Services;

/// <summary>
/// A manager and donors inside the calling process, on loopback with OS-chosen ports and a fresh
/// secret: the same services `remotemem manager` and `remotemem donor` run, for samples, tests and
/// trying RemoteMem on a laptop. (`remotemem demo` runs them as child processes instead.)
/// </summary>
public sealed class EmbeddedCluster : IAsyncDisposable
{
    private readonly List<DonorService> _donors = [];

    private EmbeddedCluster(ManagerService manager, ClusterSecret secret, string secretText)
    {
        Manager = manager;
        Secret = secret;
        SecretText = secretText;
    }

    public ManagerService Manager { get; }

    public IReadOnlyList<DonorService> Donors => _donors;

    /// <summary>The cluster's secret; give it to clients (<c>RemoteMemClientOptions.Secret</c>).</summary>
    public ClusterSecret Secret { get; }

    /// <summary>The secret as hex text (for REMOTEMEM_SECRET of child processes).</summary>
    public string SecretText { get; }

    /// <summary>The manager's endpoint (host:port).</summary>
    public string ManagerEndpoint => Manager.Endpoint;

    /// <summary>Starts a manager and <paramref name="donors"/> donors of <paramref name="bytesPerDonor"/> each, and waits until they are registered.</summary>
    public static async Task<EmbeddedCluster> StartAsync(int donors, long bytesPerDonor, Action<ManagerOptions>? configure = null, Action<DonorOptions>? configureDonor = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(donors);
        var secret = ClusterSecret.Generate(out var text);
        var options = new ManagerOptions { Listen = "127.0.0.1:0" };
        configure?.Invoke(options);
        var manager = new ManagerService(Options.Create(options), Options.Create(new ClusterOptions { Secret = text }), NullLogger<ManagerService>.Instance);
        await manager.StartAsync(CancellationToken.None).ConfigureAwait(false);
        var cluster = new EmbeddedCluster(manager, secret, text);
        try
        {
            for (int i = 0; i < donors; i++) await cluster.AddDonorAsync(bytesPerDonor, configureDonor).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts one more donor and waits until it has registered.</summary>
    public async Task<DonorService> AddDonorAsync(long bytes, Action<DonorOptions>? configure = null)
    {
        var options = new DonorOptions { Manager = ManagerEndpoint, Listen = "127.0.0.1:0", Memory = bytes.ToString(), StopGrace = TimeSpan.FromSeconds(2) };
        configure?.Invoke(options);
        var donor = new DonorService(
            Options.Create(options),
            Options.Create(new ClusterOptions { Secret = SecretText }),
            NullLogger<DonorService>.Instance);
        _donors.Add(donor);
        await donor.StartAsync(CancellationToken.None).ConfigureAwait(false);
        await donor.Ready.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return donor;
    }

    /// <summary>Stops the donors, then the manager.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var donor in _donors)
        {
            await donor.StopAsync(CancellationToken.None).ConfigureAwait(false);
            donor.Dispose();
        }

        await Manager.StopAsync(CancellationToken.None).ConfigureAwait(false);
        Manager.Dispose();
    }
}
