using System.Buffers.Binary;
using RemoteMem.Cli.Internal;
using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Tests.Integration;

/// <summary>
/// A wire fuzzer: 100,000 frames, random ones and mutations of valid ones (bit flips, truncation,
/// extension, another opcode, a corrupted header), thrown by an authenticated client at a real donor
/// and a real manager while a well-behaved client keeps writing and verifying its own data. Every
/// frame must be answered (or, for a corrupted header, answered and the connection closed), the
/// services must stay up, and the honest client must see neither an error nor a wrong byte.
/// </summary>
[Collection(Processes.Name)]
public sealed class WireFuzzTests
{
    private const int FramesPerService = 50_000;
    private const int Batch = 32;

    [Fact]
    public async Task A_hundred_thousand_random_and_mutated_frames_harm_neither_the_services_nor_an_honest_client()
    {
        await using var cluster = await LocalCluster.StartAsync(1, "64MiB");
        await using var honest = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret });
        await using var honestData = await honest.AllocateAsync(4 << 20);

        // The fuzzer's own valid material: a lease, its capability, a published name.
        await using var fuzzer = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = cluster.ManagerEndpoint, Secret = cluster.Secret });
        await using var fuzzData = await fuzzer.AllocateAsync(1 << 20);
        var capability = fuzzData.Targets[0].Capability;

        using var stop = new CancellationTokenSource();
        int rounds = 0;
        var verifier = Task.Run(async () =>
        {
            var back = new byte[64 << 10];
            while (!stop.IsCancellationRequested)
            {
                long offset = rounds * (64L << 10) % honestData.Length;
                var data = TestPattern.Make(offset, back.Length, rounds);
                await honestData.WriteAsync(offset, data);
                await honestData.ReadAsync(offset, back);
                Assert.True(data.AsSpan().SequenceEqual(back), $"round {rounds}: the honest client's data differs");
                rounds++;
            }
        });

        var donorCorpus = DonorCorpus(capability);
        var managerCorpus = ManagerCorpus(fuzzData.LeaseId, fuzzData.HolderId);
        var donorStats = await FuzzAsync(cluster.Donors[0].Endpoint, cluster.Secret, donorCorpus, seed: 1);
        var managerStats = await FuzzAsync(cluster.ManagerEndpoint, cluster.Secret, managerCorpus, seed: 2);

        stop.Cancel();
        await verifier;
        Assert.True(rounds > 0, "the honest client made no progress");
        Assert.False(cluster.Manager.HasExited, "manager died:\n" + cluster.Manager.LogTail);
        Assert.False(cluster.Donors[0].HasExited, "donor died:\n" + cluster.Donors[0].LogTail);
        Assert.Equal(FramesPerService, donorStats.Sent);
        Assert.Equal(FramesPerService, managerStats.Sent);
        // The mix really exercised both outcomes: requests refused on a live connection, and connections closed.
        Assert.True(donorStats.Refused > FramesPerService / 2 && managerStats.Refused > FramesPerService / 2);
        Assert.True(donorStats.Closed > 0 && managerStats.Closed > 0);
        Assert.Equal(DonorHealth.Alive, (await honest.GetStatusAsync()).Donors.Single().Health);
    }

    private readonly record struct Stats(int Sent, int Refused, int Closed);

    /// <summary>Sends the frames in batches on one authenticated connection; a corrupted header goes alone on its own connection.</summary>
    private static async Task<Stats> FuzzAsync(string endpoint, ClusterSecret secret, IReadOnlyList<(Opcode Opcode, byte[] Payload)> corpus, int seed)
    {
        var random = new Random(seed);
        int sent = 0, refused = 0, closed = 0;
        ulong id = 1000;
        var peer = await RawPeer.AuthenticateAsync(endpoint, secret);
        try
        {
            while (sent < FramesPerService)
            {
                if (random.Next(100) == 0)
                {
                    // A corrupted header: answered with an error, then the connection is closed.
                    using var victim = await RawPeer.AuthenticateAsync(endpoint, secret);
                    victim.Send(CorruptHeader(random, ++id));
                    Assert.NotEqual(ErrorCode.Ok, victim.Receive().Header.Status);
                    Assert.True(victim.IsClosedByServer(), "a corrupted header did not close the connection");
                    sent++;
                    closed++;
                    continue;
                }

                int count = Math.Min(Batch, FramesPerService - sent);
                var frames = new List<byte>();
                for (int i = 0; i < count; i++) frames.AddRange(Mutate(random, corpus, ++id));
                peer.Send(frames.ToArray());
                for (int i = 0; i < count; i++)
                {
                    var (header, _) = peer.Receive();
                    Assert.True(header.IsResponse, "the server sent something other than a response");
                    if (header.Status != ErrorCode.Ok) refused++;
                }

                sent += count;
            }
        }
        finally
        {
            peer.Dispose();
        }

        return new Stats(sent, refused, closed);
    }

    /// <summary>One frame with a consistent header: random, or a mutation of a valid one.</summary>
    private static byte[] Mutate(Random random, IReadOnlyList<(Opcode Opcode, byte[] Payload)> corpus, ulong id)
    {
        var (opcode, valid) = corpus[random.Next(corpus.Count)];
        var payload = (byte[])valid.Clone();
        switch (random.Next(6))
        {
            case 0: // random opcode, random bytes
                payload = new byte[random.Next(0, 512)];
                random.NextBytes(payload);
                opcode = (Opcode)random.Next(256);
                break;
            case 1: // a few bit flips
                for (int flips = random.Next(1, 9); flips > 0 && payload.Length > 0; flips--)
                    payload[random.Next(payload.Length)] ^= (byte)(1 << random.Next(8));
                break;
            case 2: // truncated
                payload = payload[..random.Next(0, payload.Length + 1)];
                break;
            case 3: // extended with random bytes
                var tail = new byte[random.Next(1, 256)];
                random.NextBytes(tail);
                payload = [.. payload, .. tail];
                break;
            case 4: // the payload of another opcode
                opcode = corpus[random.Next(corpus.Count)].Opcode;
                break;
            default: // a valid frame, unchanged: the honest path stays open under fire
                break;
        }

        // Handshake opcodes after authentication, and flags, are exercised separately; keep requests requests.
        if (opcode is Opcode.Hello or Opcode.Auth) opcode = Opcode.Status;
        return RawPeer.Frame(opcode, id, payload);
    }

    private static byte[] CorruptHeader(Random random, ulong id)
    {
        var frame = RawPeer.Frame(Opcode.Status, id, []);
        switch (random.Next(3))
        {
            case 0: frame[4] ^= 0xFF; break;                                                           // magic
            case 1: frame[6] = (byte)random.Next(2, 256); break;                                       // version
            default: BinaryPrimitives.WriteInt32LittleEndian(frame, random.Next(int.MinValue, -1)); break; // negative length
        }

        return frame;
    }

    private static List<(Opcode, byte[])> DonorCorpus(Capability capability)
    {
        var corpus = new List<(Opcode, byte[])>();
        foreach (var (opcode, ranges) in new (Opcode, WireRange[])[]
        {
            (Opcode.Read, [new WireRange(0, 4096)]),
            (Opcode.Read, [new WireRange(4096, 8)]),
            (Opcode.ReadVector, [new WireRange(0, 512), new WireRange(8192, 1024)]),
            (Opcode.Write, [new WireRange(0, 4096)]),
            (Opcode.WriteVector, [new WireRange(0, 100), new WireRange(4096, 300)]),
        })
        {
            var prefix = new byte[DataRequest.MaxPrefixSize];
            int length = DataRequest.WritePrefix(prefix, opcode, capability, ranges);
            long data = opcode is Opcode.Write or Opcode.WriteVector ? ranges.Sum(r => (long)r.Length) : 0;
            corpus.Add((opcode, [.. prefix.AsSpan(0, length), .. new byte[data]]));
        }

        corpus.Add((Opcode.SegmentFree, new SegmentFree(capability.SegmentId).Encode()));   // refused: not the manager
        corpus.Add((Opcode.SegmentAllocate, new SegmentAllocate(capability.LeaseId, 4096).Encode()));
        return corpus;
    }

    private static List<(Opcode, byte[])> ManagerCorpus(ulong leaseId, ulong holderId) =>
    [
        (Opcode.Status, []),
        (Opcode.LeaseRenew, new LeaseHolder(leaseId, holderId).Encode()),
        (Opcode.LeasePublish, new LeasePublish(leaseId, holderId, "fuzz", [1, 2, 3]).Encode()),
        (Opcode.LeaseOpen, new LeaseOpen("fuzz", Rights.Read, 0).Encode()),
        (Opcode.LeaseRelease, new LeaseHolder(leaseId + 1000, holderId).Encode()),
        (Opcode.DonorHeartbeat, new DonorHeartbeat(1, 0, 0, 0, 0).Encode()),                 // refused: not a donor
        (Opcode.DonorDeregister, new DonorDeregister(1, "fuzz").Encode()),
        (Opcode.LeaseRequest, new LeaseRequest(1 << 40, 1, 0, 0, Rights.ReadWrite).Encode()), // refused: 1 TiB
    ];
}
