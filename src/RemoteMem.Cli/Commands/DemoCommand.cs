using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using RemoteMem.Cli.Internal;
using RemoteMem.Client;
using RemoteMem.Wire;

namespace RemoteMem.Cli.Commands;

/// <summary>
/// `remotemem demo`: starts a local cluster (a manager and donors as child processes on loopback),
/// leases memory striped over the donors, writes a pattern, reads it back, verifies every byte and
/// prints the write and read bandwidth. Needs nothing but the .NET SDK.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "Memory to lease and verify.", DefaultValueFactory = _ => "1GiB" };
        var donors = new Option<int>("--donors") { Description = "Donor processes to start.", DefaultValueFactory = _ => 2 };
        var block = new Option<string>("--block") { Description = "Bytes per read/write call.", DefaultValueFactory = _ => "64MiB" };
        var transport = new Option<string>("--transport") { Description = "Data path: tcp (managed, default) or fabric (one-sided RMA through libfabric).", DefaultValueFactory = _ => "tcp" };
        var provider = new Option<string>("--provider") { Description = "libfabric provider for --transport fabric.", DefaultValueFactory = _ => "tcp;ofi_rxm" };
        var command = new Command("demo", "Start a local cluster on loopback, lease memory striped over its donors, write, read back and verify it, and print GB/s.")
        {
            size, donors, block, transport, provider,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            long bytes, blockBytes;
            try
            {
                bytes = ByteSize.Parse(parse.GetValue(size)!);
                blockBytes = ByteSize.Parse(parse.GetValue(block)!);
            }
            catch (FormatException ex)
            {
                await Console.Error.WriteLineAsync("remotemem demo: " + ex.Message);
                return 2;
            }

            int donorCount = parse.GetValue(donors);
            if (donorCount < 1 || bytes < 1 || blockBytes < 4096 || blockBytes > int.MaxValue)
            {
                await Console.Error.WriteLineAsync("remotemem demo: --donors must be at least 1, --size positive, --block between 4KiB and 2GiB.");
                return 2;
            }

            var dataPath = parse.GetValue(transport)!;
            if (dataPath is not ("tcp" or "fabric"))
            {
                await Console.Error.WriteLineAsync($"remotemem demo: --transport {dataPath} is not one of: tcp, fabric.");
                return 2;
            }

            return await RunAsync(bytes, donorCount, (int)Math.Min(blockBytes, bytes), dataPath, parse.GetValue(provider)!, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(long bytes, int donorCount, int block, string dataPath, string provider, CancellationToken cancellationToken)
    {
        long perDonor = (bytes + donorCount - 1) / donorCount + (64L << 20);
        Console.WriteLine($"Starting a local cluster on loopback: a manager and {donorCount} donors of {ByteSize.Format(perDonor)} each (child processes)...");
        string[] donorArgs = dataPath == "fabric" ? ["--transport", "fabric", "--provider", provider] : [];
        await using var cluster = await LocalCluster.StartAsync(donorCount, perDonor.ToString(), donorArgs: donorArgs);
        Console.WriteLine($"  manager {cluster.ManagerEndpoint}; donors {string.Join(", ", cluster.Donors.Select(d => d.Endpoint))}");

        await using var client = await RemoteMemClient.ConnectAsync(new RemoteMemClientOptions
        {
            Manager = cluster.ManagerEndpoint,
            Secret = cluster.Secret,
            DataTransport = dataPath,
            FabricProvider = provider,
        }, cancellationToken);
        Console.WriteLine(dataPath == "fabric" ? $"Data path: one-sided RMA over libfabric ({provider}); control plane over TCP." : "Data path: managed TCP.");
        await using var allocation = await client.AllocateAsync(bytes, new AllocationOptions { StripeCount = donorCount }, cancellationToken);
        Console.WriteLine($"Leased {ByteSize.Format(bytes)} as lease {allocation.LeaseId}, striped in {ByteSize.Format(allocation.StripeSize)} stripes over {allocation.DonorCount} donors.");

        var buffer = GC.AllocateUninitializedArray<byte>(block, pinned: true);
        // Two passes: the first also commits the donors' memory (page faults on first touch), the
        // second is the steady state an application sees when it rewrites its data.
        foreach (var pass in new[] { "write (first touch)", "write (rewrite)    " })
        {
            var write = new Stopwatch();
            for (long offset = 0; offset < bytes; offset += block)
            {
                int n = (int)Math.Min(block, bytes - offset);
                Pattern.Fill(buffer.AsSpan(0, n), offset);
                write.Start();
                await allocation.WriteAsync(offset, buffer.AsMemory(0, n), cancellationToken);
                write.Stop();
            }

            Console.WriteLine($"  {pass}: {ByteSize.Format(bytes)} in {write.Elapsed.TotalSeconds:0.000} s = {bytes / write.Elapsed.TotalSeconds / 1e9:0.00} GB/s");
        }

        var read = new Stopwatch();
        for (long offset = 0; offset < bytes; offset += block)
        {
            int n = (int)Math.Min(block, bytes - offset);
            read.Start();
            await allocation.ReadAsync(offset, buffer.AsMemory(0, n), cancellationToken);
            read.Stop();
            long mismatch = Pattern.FirstMismatch(buffer.AsSpan(0, n), offset);
            if (mismatch >= 0)
            {
                await Console.Error.WriteLineAsync($"remotemem demo: VERIFY FAILED at byte {offset + mismatch}.");
                return 1;
            }
        }

        Console.WriteLine($"  read               : {ByteSize.Format(bytes)} in {read.Elapsed.TotalSeconds:0.000} s = {bytes / read.Elapsed.TotalSeconds / 1e9:0.00} GB/s, every byte verified");
        Console.WriteLine("Releasing the lease and stopping the cluster.");
        return 0;
    }
}

/// <summary>A position-dependent pattern: any misplaced, stale or zero byte shows.</summary>
internal static class Pattern
{
    private static byte At(long position) => (byte)((ulong)(position + 1) * 0x9E3779B97F4A7C15UL >> 56);

    public static void Fill(Span<byte> destination, long offset)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = At(offset + i);
    }

    public static long FirstMismatch(ReadOnlySpan<byte> data, long offset)
    {
        for (int i = 0; i < data.Length; i++)
            if (data[i] != At(offset + i)) return i;
        return -1;
    }
}
