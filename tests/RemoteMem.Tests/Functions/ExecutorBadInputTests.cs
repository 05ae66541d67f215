using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using MemoryPack;
using RemoteMem.Client;
using RemoteMem.Client.Functions;
using RemoteMem.Services.Donor.Executors;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Tests.Functions;

/// <summary>Bad packages, forged tickets, the wrong key and random frames: each refused clearly, nothing else harmed.</summary>
[Collection(Processes.Name)]
public sealed class ExecutorBadInputTests
{
    [Fact]
    public void The_package_store_refuses_a_wrong_hash_a_broken_archive_a_missing_entry_and_an_escaping_path()
    {
        var store = new PackageStore(Path.Combine(Path.GetTempPath(), "remotemem-test-store-" + Guid.NewGuid().ToString("n")));
        var good = FunctionCluster.Package;

        var wrongHash = Assert.Throws<WireException>(() => store.Upload(new PackageUpload(new byte[32], (ulong)good.Bytes.Length, 0, good.Bytes)));
        Assert.Equal(ErrorCode.PackageInvalid, wrongHash.Code);

        var garbage = RandomNumberGenerator.GetBytes(1000);
        var broken = Assert.Throws<WireException>(() => Upload(store, garbage));
        Assert.Equal(ErrorCode.PackageInvalid, broken.Code);
        Assert.Contains("zip", broken.Message);

        var noEntry = Assert.Throws<WireException>(() => Upload(store, Zip(("lib.dll", [1, 2, 3]))));
        Assert.Contains("entry.txt", noEntry.Message);

        var escaping = Assert.Throws<WireException>(() => Upload(store, Zip(("entry.txt", "x.dll"u8.ToArray()), ("../../escaped.dll", [1]))));
        Assert.Contains("outside the package", escaping.Message);

        var outOfOrder = Assert.Throws<WireException>(() => store.Upload(new PackageUpload(good.Hash, (ulong)good.Bytes.Length, 100, good.Bytes.AsMemory(100, 10))));
        Assert.Equal(ErrorCode.InvalidArgument, outOfOrder.Code);

        Assert.True(store.Upload(new PackageUpload(good.Hash, (ulong)good.Bytes.Length, 0, good.Bytes)));
        Assert.True(store.Has(good.Hash));
        Assert.Single(Directory.GetDirectories(store.Folder)); // nothing left behind by the refused ones
    }

    [Fact]
    public async Task A_package_whose_entry_is_not_an_assembly_fails_the_lease_with_a_clear_error_and_frees_its_cores()
    {
        await using var cluster = await FunctionCluster.StartAsync(cores: 1);
        await using var client = await cluster.ConnectAsync();
        var text = Path.Combine(Path.GetTempPath(), "not-an-assembly-" + Guid.NewGuid().ToString("n") + ".dll");
        await File.WriteAllTextAsync(text, "this is not a .NET assembly");
        var package = FunctionPackage.FromFiles("fake.dll", new Dictionary<string, string> { ["fake.dll"] = text });

        var error = await Assert.ThrowsAsync<RemoteMemException>(() => client.LeaseExecutorAsync(new ExecutorLeaseOptions { Package = package }));
        Assert.Equal(ErrorCode.PackageInvalid, error.Code);
        Assert.Contains("not a .NET assembly", error.Message);

        // The one core is free again: a good lease fits.
        await using var lease = await FunctionCluster.LeaseWhenFreeAsync(client);
    }

    [Fact]
    public async Task A_forged_ticket_is_refused_by_the_donor_and_the_wrong_key_by_the_executor()
    {
        await using var cluster = await FunctionCluster.StartAsync(cores: 4);
        await using var client = await cluster.ConnectAsync();
        await using var lease = await client.LeaseExecutorAsync(FunctionCluster.Options());

        // Raise the ticket's cores from 1 to 4 without the manager's signature.
        var forged = (byte[])lease.Ticket.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(forged.AsSpan(16), 4);
        await using var donor = await FrameClient.ConnectAsync(cluster.Donors[0].AdvertisedEndpoint, cluster.Secret, PeerRole.Client, new TransportOptions());
        var refused = await Assert.ThrowsAsync<WireException>(() => donor.CallAsync(Opcode.ExecutorStart, new ExecutorStart(forged, FunctionCluster.Package.Hash, 0, []).Encode()));
        Assert.Equal(ErrorCode.CapabilityInvalid, refused.Code);

        var started = await Assert.ThrowsAsync<WireException>(() => donor.CallAsync(Opcode.ExecutorStart, new ExecutorStart(lease.Ticket, FunctionCluster.Package.Hash, 0, []).Encode()));
        Assert.Equal(ErrorCode.NameExists, started.Code);

        var wrongKey = await Assert.ThrowsAsync<WireException>(() => FrameSocket.ConnectAsync(lease.Endpoint, cluster.Secret, PeerRole.Client, new TransportOptions()));
        Assert.Equal(ErrorCode.AuthenticationFailed, wrongKey.Code);
        Assert.Equal(new byte[] { 3 }, await lease.InvokeAsync("echo", new byte[] { 3 }));
    }

    [Fact]
    public async Task Twenty_thousand_random_and_mutated_frames_leave_the_executor_serving_an_honest_caller_throughout()
    {
        await using var cluster = await FunctionCluster.StartAsync(cores: 2, gpus: 0);
        await using var client = await cluster.ConnectAsync();
        await using var lease = await client.LeaseExecutorAsync(FunctionCluster.Options(cores: 2));
        await lease.InvokeAsync("echo", new byte[1]);
        var key = ClusterSecret.FromBytes(lease.Key);

        // An honest caller keeps invoking and checking its answers on its own connections meanwhile.
        using var stop = new CancellationTokenSource();
        int honestCalls = 0;
        var honest = Task.Run(async () =>
        {
            var data = new byte[512];
            while (!stop.IsCancellationRequested)
            {
                Random.Shared.NextBytes(data);
                Assert.Equal(data, await lease.InvokeAsync("echo", data));
                honestCalls++;
            }
        });

        var random = new Random(7);
        int sent = 0, refused = 0, closed = 0;
        ulong id = 1;
        var peer = await RawPeer.AuthenticateAsync(lease.Endpoint, key);

        // Ids as the executor numbers them. Only quick, harmless functions stay in the mix: a crash is a
        // function's right, and a sleep or an allocation of random size would stall the worker.
        uint Id(string name)
        {
            peer.Send(RawPeer.Frame(Opcode.FunctionResolve, ++id, Encoding.UTF8.GetBytes(name)));
            var (header, payload) = peer.Receive();
            Assert.Equal(ErrorCode.Ok, header.Status);
            return BinaryPrimitives.ReadUInt32LittleEndian(payload);
        }

        uint echo = Id("echo");
        var safe = new[] { "add", "describe", "echo", "length", "throw" }.Select(Id).ToHashSet();
        var excluded = typeof(TestFunctions.Echo).Assembly.GetTypes()
            .Select(t => t.GetCustomAttributes(typeof(RemoteMem.Functions.RemoteFunctionAttribute), false).Cast<RemoteMem.Functions.RemoteFunctionAttribute>().FirstOrDefault()?.Name)
            .OfType<string>().Select(Id).Where(f => !safe.Contains(f)).ToHashSet();
        var corpus = new List<(Opcode, byte[])>
        {
            (Opcode.Invoke, Invoke(echo, [1, 2, 3])),
            (Opcode.Invoke, Invoke(Id("add"), MemoryPackSerializer.Serialize((1L, 2L)))),
            (Opcode.Invoke, Invoke(Id("throw"), "x"u8.ToArray())),
            (Opcode.Invoke, Invoke(Id("length"), new byte[100])),
            (Opcode.Invoke, Invoke(Id("describe"), MemoryPackSerializer.Serialize(0))),
            (Opcode.FunctionResolve, Encoding.UTF8.GetBytes("echo")),
            (Opcode.ExecutorStats, []),
        };

        try
        {
            while (sent < 20_000)
            {
                if (random.Next(200) == 0)
                {
                    // A corrupted header: the stream cannot be trusted any more, so the executor closes it.
                    using var victim = await RawPeer.AuthenticateAsync(lease.Endpoint, key);
                    var frame = RawPeer.Frame(Opcode.Invoke, ++id, []);
                    frame[4] ^= 0xFF;
                    victim.Send(frame);
                    Assert.True(victim.IsClosedByServer(), "a corrupted header did not close the connection");
                    sent++;
                    closed++;
                    continue;
                }

                var frames = new List<byte>();
                for (int i = 0; i < 32; i++)
                {
                    var (opcode, payload) = Mutate(random, corpus);
                    if (opcode == Opcode.Invoke && payload.Length >= 4 && excluded.Contains(BinaryPrimitives.ReadUInt32LittleEndian(payload)))
                        BinaryPrimitives.WriteUInt32LittleEndian(payload, echo);
                    if (opcode == Opcode.Invoke && payload.Length >= 8) BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), 5000);
                    frames.AddRange(RawPeer.Frame(opcode, ++id, payload));
                }

                peer.Send(frames.ToArray());
                for (int i = 0; i < 32; i++)
                {
                    var (header, _) = peer.Receive();
                    Assert.True(header.IsResponse);
                    if (header.Status != ErrorCode.Ok) refused++;
                }

                sent += 32;
            }
        }
        finally
        {
            peer.Dispose();
        }

        stop.Cancel();
        await honest;
        Assert.True(honestCalls > 0, "the honest caller made no progress");
        Assert.True(refused > 1000, $"only {refused} refusals: the mix did not exercise the error paths");
        Assert.True(closed > 0);
        Assert.Equal(new byte[] { 4, 2 }, await lease.InvokeAsync("echo", new byte[] { 4, 2 }));
        Assert.Equal(42L, await lease.InvokeAsync<(long, long), long>("add", (40L, 2L)));
    }

    private static byte[] Invoke(uint function, byte[] input)
    {
        var payload = new byte[InvokePrefix.Size + input.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, function);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), 5000);
        input.CopyTo(payload, InvokePrefix.Size);
        return payload;
    }

    private static (Opcode, byte[]) Mutate(Random random, List<(Opcode Opcode, byte[] Payload)> corpus)
    {
        var (opcode, valid) = corpus[random.Next(corpus.Count)];
        var payload = (byte[])valid.Clone();
        switch (random.Next(6))
        {
            case 0:
                payload = new byte[random.Next(0, 256)];
                random.NextBytes(payload);
                opcode = (Opcode)random.Next(256);
                break;
            case 1:
                for (int flips = random.Next(1, 9); flips > 0 && payload.Length > 0; flips--)
                    payload[random.Next(payload.Length)] ^= (byte)(1 << random.Next(8));
                break;
            case 2:
                payload = payload[..random.Next(0, payload.Length + 1)];
                break;
            case 3:
                var tail = new byte[random.Next(1, 128)];
                random.NextBytes(tail);
                payload = [.. payload, .. tail];
                break;
            case 4:
                opcode = corpus[random.Next(corpus.Count)].Opcode;
                break;
        }

        return (opcode, payload);
    }

    private static void Upload(PackageStore store, byte[] bytes) =>
        store.Upload(new PackageUpload(SHA256.HashData(bytes), (ulong)bytes.Length, 0, bytes));

    private static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var stream = zip.CreateEntry(name).Open();
                stream.Write(content);
            }
        }

        return buffer.ToArray();
    }
}
