// The reading side of a shared array: another process (say, rank 0 of an MPI job) created a
// RemoteArray<long>, filled it, flushed it and published it by name; this process opens it by name,
// read-only, and checks what it sees. Element i holds i * 3 + 1.
//
//   REMOTEMEM_SECRET=@cluster.secret dotnet run --project samples/SharedArray -- MANAGER NAME
using RemoteMem.Client;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: SharedArray MANAGER_HOST:PORT NAME   (the cluster secret comes from REMOTEMEM_SECRET)");
    return 2;
}

await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions { Manager = args[0] });
await using var shared = await client.OpenArrayAsync<long>(args[1], writable: false, new RemoteArrayOptions { CacheBytes = 1 << 20 });

var chunk = new long[8192];
for (long i = 0; i < shared.Length; i += chunk.Length)
{
    var part = chunk.AsMemory(0, (int)Math.Min(chunk.Length, shared.Length - i));
    await shared.ReadAsync(i, part);
    for (int k = 0; k < part.Length; k++)
    {
        if (part.Span[k] != (i + k) * 3 + 1)
        {
            Console.Error.WriteLine($"element {i + k} holds {part.Span[k]}, expected {(i + k) * 3 + 1}");
            return 1;
        }
    }
}

try
{
    shared[0] = -1;
    Console.Error.WriteLine("a read-only array accepted a write");
    return 1;
}
catch (InvalidOperationException)
{
    // Opened read-only: writes are refused at the call.
}

Console.WriteLine($"verified {shared.Length} elements of '{args[1]}' (lease {shared.LeaseId})");
return 0;
