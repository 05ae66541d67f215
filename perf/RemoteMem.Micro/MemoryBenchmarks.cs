using BenchmarkDotNet.Attributes;
using RemoteMem.Client;
using RemoteMem.Services;
using RemoteMem.Services.Donor.Internal;

namespace RemoteMem.Micro;

/// <summary>The donor's allocator and the client's page-cache hit path.</summary>
[MemoryDiagnoser]
public class MemoryBenchmarks
{
    private BuddyAllocator _allocator = null!;
    private EmbeddedCluster _cluster = null!;
    private RemoteMemClient _client = null!;
    private RemoteArray<long> _array = null!;
    private readonly long[] _buffer = new long[8];

    [GlobalSetup]
    public async Task Setup()
    {
        _allocator = new BuddyAllocator(16L << 30);
        _cluster = await EmbeddedCluster.StartAsync(1, 64L << 20);
        _client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = _cluster.ManagerEndpoint, Secret = _cluster.Secret });
        _array = await _client.CreateArrayAsync<long>(1 << 20, new RemoteArrayOptions { CacheBytes = 1 << 20 });
        _array.Read(0, _buffer);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _array.DisposeAsync();
        await _client.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Benchmark]
    public void AllocateAndFree3MiB()
    {
        _allocator.TryAllocate(3 << 20, out long offset);
        _allocator.Free(offset, 3 << 20);
    }

    [Benchmark]
    public void PageCacheHit64Bytes() => _array.Read(0, _buffer);
}
