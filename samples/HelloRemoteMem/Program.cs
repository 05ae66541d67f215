// A minimal RemoteMem client: lease memory from a running cluster, write, read back.
//
//   remotemem secret --out cluster.secret
//   REMOTEMEM_SECRET=@cluster.secret remotemem manager --listen 0.0.0.0:7600 &
//   REMOTEMEM_SECRET=@cluster.secret remotemem donor --manager HOST:7600 --memory 8GiB &
//   REMOTEMEM_SECRET=@cluster.secret dotnet run --project samples/HelloRemoteMem -- HOST:7600
using RemoteMem.Client;

var manager = args.Length > 0 ? args[0] : "127.0.0.1:7600";

// One client per process: hold it and reuse it (it is thread-safe and keeps its connections).
await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = manager });

// 256 MiB striped over up to two donors; the lease is renewed in the background while we hold it.
await using var memory = await client.AllocateAsync(256L << 20, new AllocationOptions { StripeCount = 2 });
Console.WriteLine($"lease {memory.LeaseId}: {memory.Length} bytes on {string.Join(", ", memory.Donors)}");

var data = new byte[1 << 20];
Random.Shared.NextBytes(data);
await memory.WriteAsync(offset: 100L << 20, data);

var back = new byte[data.Length];
await memory.ReadAsync(offset: 100L << 20, back);
Console.WriteLine(data.AsSpan().SequenceEqual(back) ? "read back what was written" : "MISMATCH");
