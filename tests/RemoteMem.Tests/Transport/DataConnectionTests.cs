using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Transport;
using RemoteMem.Transport.Internal;
using RemoteMem.Wire;

namespace RemoteMem.Tests.Transport;

/// <summary>
/// The client's data connection against a real donor (thread-per-connection): sizes on both sides of
/// the direct-copy threshold and of the buffers, blocking and async callers at once, vector requests,
/// and a peer that answers what was never asked. Alone: its blocking callers hold pool threads.
/// </summary>
[Collection(Isolated.Name)]
public sealed class DataConnectionTests
{
    private static readonly int[] Sizes = [1, 100, 4096, (16 << 10) - 1, 16 << 10, (64 << 10) + 1, 1 << 20, 4 << 20];

    [Fact]
    public async Task Concurrent_blocking_and_async_reads_and_writes_of_1_B_to_4_MiB_land_where_they_belong()
    {
        await using var donor = await DonorSegment.StartAsync(donorBytes: 96L << 20, segmentBytes: 64L << 20);
        var (target, connection) = (donor.Target, donor.Connection);

        // Each worker owns one 8 MiB region and writes, then reads back, every size in turn.
        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            using var written = new NativeBuffer(4 << 20);
            using var read = new NativeBuffer(4 << 20);
            for (int round = 0; round < 3; round++)
            {
                foreach (int size in Sizes)
                {
                    long offset = w * (8L << 20) + random.Next(0, (4 << 20) - size + 1);
                    random.NextBytes(written.Span[..size]);
                    read.Span.Clear();
                    bool blocking = (w + round) % 2 == 0;
                    if (blocking) connection.Execute(Opcode.Write, target.Capability, [new IoOp(offset, written.Address, size)]);
                    else await connection.ExecuteAsync(Opcode.Write, target.Capability, new[] { new IoOp(offset, written.Address, size) });
                    if (blocking) await connection.ExecuteAsync(Opcode.Read, target.Capability, new[] { new IoOp(offset, read.Address, size) });
                    else connection.Execute(Opcode.Read, target.Capability, [new IoOp(offset, read.Address, size)]);
                    Assert.True(written.Span[..size].SequenceEqual(read.Span[..size]), $"worker {w}, {size} bytes at {offset}");
                }
            }
        })).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(2));

        // A vector read gathers 64 ranges of mixed sizes into one answer, scattered into place.
        using var whole = new NativeBuffer(64 * (20 << 10));
        using var gathered = new NativeBuffer(64 * (20 << 10));
        new Random(99).NextBytes(whole.Span);
        connection.Execute(Opcode.Write, target.Capability, [new IoOp(0, whole.Address, whole.Length)]);
        var ops = new IoOp[64];
        long remote = 0, local = 0;
        for (int i = 0; i < ops.Length; i++)
        {
            int length = i % 3 == 0 ? 20 << 10 : 100 + i;
            ops[i] = new IoOp(remote, gathered.Address + (nint)local, length);
            remote += length;
            local += length;
        }

        await connection.ExecuteAsync(Opcode.ReadVector, target.Capability, ops);
        Assert.True(whole.Span[..(int)local].SequenceEqual(gathered.Span[..(int)local]));
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public async Task An_answer_to_a_request_never_made_fails_every_request_on_the_connection()
    {
        var secret = ClusterSecret.Generate(out _);
        using var listener = new LoopbackListener();
        var endpoint = listener.Endpoint;
        var server = Task.Run(() =>
        {
            using var peer = FrameSocket.Accept(listener.Accept(), secret, WireLimits.DefaultMaxFrameSize, TimeSpan.FromSeconds(10));
            Assert.NotNull(peer);
            // Wait for two requests, then answer one that was never asked.
            Assert.True(peer.ReadFrame(out var first, out _));
            Assert.True(peer.ReadFrame(out _, out _));
            peer.Send(first.ToResponse(0) with { RequestId = 0xdead_0000_0000 }, default, default);
            while (peer.ReadFrame(out _, out _)) { }
        });

        using var connection = await DataConnection.ConnectAsync(endpoint, secret, new TransportOptions());
        using var buffer = new NativeBuffer(4096);
        var capability = new Capability { LeaseId = 1, Length = 4096, Rights = Rights.Read, ExpiresUnixMs = long.MaxValue };
        var pending = Enumerable.Range(0, 2).Select(_ => connection.ExecuteAsync(Opcode.Read, capability, new[] { new IoOp(0, buffer.Address, 4096) }).AsTask()).ToArray();
        foreach (var request in pending)
        {
            var error = await Assert.ThrowsAsync<ConnectionFailedException>(() => request.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("not pending", error.Message);
        }

        Assert.False(connection.IsConnected);
        Assert.Throws<ConnectionFailedException>(() => connection.Execute(Opcode.Read, capability, [new IoOp(0, buffer.Address, 4096)]));
        await server.WaitAsync(TimeSpan.FromSeconds(30));
    }
}

/// <summary>Native memory for a test's transfers (the transport needs memory that does not move).</summary>
internal sealed unsafe class NativeBuffer(int length) : IDisposable
{
    private void* _memory = System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)length);

    public int Length => length;

    public nint Address => (nint)_memory;

    public Span<byte> Span => new(_memory, length);

    public void Dispose()
    {
        System.Runtime.InteropServices.NativeMemory.Free(_memory);
        _memory = null;
    }
}
