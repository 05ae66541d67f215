using RemoteMem.Wire;

namespace RemoteMem.Cli.Internal;

/// <summary>
/// A manager and donors as child processes on loopback, with a fresh secret: what `remotemem demo`
/// runs and what the multi-process tests use. Ports are chosen by the OS (port 0) and read back from
/// each child's READY line, so parallel clusters never collide.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    private readonly List<ChildProcess> _donors = [];
    private readonly Dictionary<string, string> _environment;
    private readonly string _donorMemory;
    private readonly IReadOnlyList<string> _donorArgs;

    private LocalCluster(ChildProcess manager, string secretText, string donorMemory, IReadOnlyList<string> donorArgs)
    {
        _donorArgs = donorArgs;
        Manager = manager;
        SecretText = secretText;
        Secret = ClusterSecret.Parse(secretText);
        _donorMemory = donorMemory;
        _environment = new Dictionary<string, string> { [ClusterSecret.EnvironmentVariable] = secretText };
    }

    public ChildProcess Manager { get; private set; }

    private IReadOnlyList<string> _managerArgs = [];

    public string ManagerEndpoint => Manager.Endpoint;

    public IReadOnlyList<ChildProcess> Donors => _donors;

    public ClusterSecret Secret { get; }

    public string SecretText { get; }

    public static TimeSpan ReadyTimeout { get; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Starts a manager, then <paramref name="donors"/> donors of <paramref name="donorMemory"/> each (with
    /// <paramref name="donorArgs"/>, e.g. a fabric transport), and waits until all are registered.
    /// </summary>
    public static async Task<LocalCluster> StartAsync(int donors, string donorMemory, IEnumerable<string>? managerArgs = null, IEnumerable<string>? donorArgs = null)
    {
        ClusterSecret.Generate(out var secretText);
        var env = new Dictionary<string, string> { [ClusterSecret.EnvironmentVariable] = secretText };
        var args = new List<string> { "manager", "--listen", "127.0.0.1:0", "--log-level", "Warning" };
        args.AddRange(managerArgs ?? []);
        var manager = ChildProcess.Start("manager", args, env);
        var cluster = new LocalCluster(manager, secretText, donorMemory, [.. donorArgs ?? []]) { _managerArgs = [.. managerArgs ?? []] };
        try
        {
            await manager.WaitReadyAsync(ReadyTimeout);
            var starting = Enumerable.Range(0, donors).Select(_ => cluster.StartDonorAsync()).ToList();
            await Task.WhenAll(starting);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts a new manager process on the same endpoint with the same options (the old one must be
    /// gone: killed or stopped), as an operator restarts a failed manager.
    /// </summary>
    public async Task RestartManagerAsync()
    {
        if (!Manager.HasExited) throw new InvalidOperationException("Stop or kill the manager before restarting it.");
        var endpoint = Manager.Endpoint;
        var args = new List<string> { "manager", "--listen", endpoint, "--log-level", "Warning" };
        args.AddRange(_managerArgs);
        await Manager.DisposeAsync();
        Manager = ChildProcess.Start("manager", args, _environment);
        await Manager.WaitReadyAsync(ReadyTimeout);
    }

    /// <summary>Starts one more donor and waits until it has registered.</summary>
    public async Task<ChildProcess> StartDonorAsync(string? memory = null, IEnumerable<string>? extraArgs = null)
    {
        var args = new List<string> { "donor", "--manager", ManagerEndpoint, "--listen", "127.0.0.1:0", "--memory", memory ?? _donorMemory, "--log-level", "Warning" };
        args.AddRange(_donorArgs);
        args.AddRange(extraArgs ?? []);
        var donor = ChildProcess.Start("donor", args, _environment);
        lock (_donors) _donors.Add(donor);
        await donor.WaitReadyAsync(ReadyTimeout);
        return donor;
    }

    public async ValueTask DisposeAsync()
    {
        List<ChildProcess> donors;
        lock (_donors) donors = [.. _donors];
        await Task.WhenAll(donors.Select(d => d.DisposeAsync().AsTask()));
        await Manager.DisposeAsync();
    }
}
