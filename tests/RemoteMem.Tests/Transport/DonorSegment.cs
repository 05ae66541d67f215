using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Transport;
using RemoteMem.Transport.Internal;

namespace RemoteMem.Tests.Transport;

/// <summary>A one-donor in-process cluster, a lease on it, and a client data connection to that donor.</summary>
internal sealed class DonorSegment : IAsyncDisposable
{
    private readonly InProcessCluster _cluster;
    private readonly RemoteMemClient _client;

    private DonorSegment(InProcessCluster cluster, RemoteMemClient client, RemoteAllocation allocation, DataConnection connection)
    {
        _cluster = cluster;
        _client = client;
        Allocation = allocation;
        Connection = connection;
    }

    public RemoteAllocation Allocation { get; }

    /// <summary>The lease's one segment (endpoint and capability).</summary>
    public SegmentTarget Target => Allocation.Targets[0];

    public DataConnection Connection { get; }

    /// <summary>Writes <paramref name="length"/> random bytes (from <paramref name="seed"/>) at the lease's start and returns them.</summary>
    public async Task<byte[]> WriteRandomAsync(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        await Allocation.WriteAsync(0, data);
        return data;
    }

    public static async Task<DonorSegment> StartAsync(long donorBytes, long segmentBytes, TransportOptions? options = null)
    {
        var cluster = await InProcessCluster.StartAsync(donors: 1, donorBytes: donorBytes);
        var client = await cluster.ConnectAsync();
        var allocation = await client.AllocateAsync(segmentBytes);
        var connection = await DataConnection.ConnectAsync(allocation.Targets[0].Endpoint, cluster.Secret, options ?? new TransportOptions());
        return new DonorSegment(cluster, client, allocation, connection);
    }

    public async ValueTask DisposeAsync()
    {
        Connection.Dispose();
        await Allocation.DisposeAsync();
        await _client.DisposeAsync();
        await _cluster.DisposeAsync();
    }
}
