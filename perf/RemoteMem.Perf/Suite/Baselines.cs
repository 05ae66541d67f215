using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace RemoteMem.Perf.Suite;

/// <summary>
/// Baselines written in the suite itself and measured in the same run as RemoteMem: local memcpy, a
/// raw socket stream (the ceiling of the managed TCP transport) and a raw socket ping-pong.
/// </summary>
internal static class Baselines
{
    public static unsafe double MemcpyBytesPerSecond(int blockSize, TimeSpan duration)
    {
        var source = GC.AllocateArray<byte>(64 << 20, pinned: true);
        var destination = GC.AllocateArray<byte>(64 << 20, pinned: true);
        Random.Shared.NextBytes(source);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long moved = 0;
        int offset = 0;
        while (clock.Elapsed < duration)
        {
            for (int i = 0; i < 64; i++)
            {
                if (offset + blockSize > source.Length) offset = 0;
                source.AsSpan(offset, blockSize).CopyTo(destination.AsSpan(offset, blockSize));
                offset += blockSize;
                moved += blockSize;
            }
        }

        return moved / clock.Elapsed.TotalSeconds;
    }

    /// <summary>A raw TCP stream on loopback sending one cache-hot block of <paramref name="blockSize"/> over and over (see <see cref="RawStream"/>).</summary>
    public static async Task<double> SocketStreamBytesPerSecond(int blockSize, TimeSpan duration)
    {
        await using var stream = await RawStream.OpenAsync(blockSize);
        return await Measure.ThroughputAsync(1, duration, (_, _) => stream.SendAsync());
    }

    /// <summary>Round trips on loopback: a 16-byte request answered with <paramref name="answerSize"/> bytes. Latencies in microseconds, sorted.</summary>
    public static async Task<double[]> PingPongMicroseconds(int answerSize, int count)
    {
        await using var pingPong = await PingPong.OpenAsync(answerSize);
        return await Measure.LatenciesAsync(200, count, _ => pingPong.RoundTripAsync());
    }

    /// <summary>
    /// The plainest round trip there is, for the invocation figures: two blocking sockets on loopback
    /// (NoDelay), <paramref name="size"/> bytes each way, a server thread echoing them once it has them
    /// all. Latencies in microseconds, sorted.
    /// </summary>
    public static double[] BlockingPingPongMicroseconds(int warmup, int count, int size = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var server = new Thread(() =>
        {
            using var socket = listener.Accept();
            socket.NoDelay = true;
            var echo = new byte[size];
            while (ReceiveAll(socket, echo)) socket.Send(echo);
        }) { IsBackground = true, Name = "ping-pong echo" };
        server.Start();
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.Connect(listener.LocalEndPoint!);
        var ping = new byte[size];
        Random.Shared.NextBytes(ping);
        var pong = new byte[size];
        var latencies = new double[count];
        for (int i = -warmup; i < count; i++)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            client.Send(ping);
            if (!ReceiveAll(client, pong)) throw new IOException("The ping-pong echo thread closed the connection.");
            if (i >= 0) latencies[i] = Measure.MicrosecondsSince(start);
        }

        if (!ping.AsSpan().SequenceEqual(pong)) throw new IOException("The ping-pong echo returned other bytes than it was sent.");
        client.Shutdown(SocketShutdown.Both);
        server.Join();
        Array.Sort(latencies);
        return latencies;
    }

    /// <summary>Blocks until <paramref name="buffer"/> is full; false when the peer closed first.</summary>
    private static bool ReceiveAll(Socket socket, byte[] buffer)
    {
        for (int got = 0; got < buffer.Length;)
        {
            int n = socket.Receive(buffer, got, buffer.Length - got, SocketFlags.None);
            if (n == 0) return false;
            got += n;
        }

        return true;
    }

    /// <summary>Seconds to run a bare .NET program to completion (`dotnet remotemem.dll --version`): what starting any .NET process costs here.</summary>
    public static async Task<double> DotnetStartSeconds()
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "remotemem.dll"));
        info.ArgumentList.Add("--version");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var process = System.Diagnostics.Process.Start(info)!;
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"`dotnet remotemem.dll --version` exited {process.ExitCode}.");
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>redis-benchmark GET/SET with 1 KiB values at a pipelining depth, when redis is installed; null (and why) otherwise.</summary>
    public static async Task<(double Get, double Set)?> RedisOpsPerSecond(int pipeline, int requests, List<string> notes)
    {
        if (!OnPath("redis-server") || !OnPath("redis-benchmark"))
        {
            notes.Add("Redis baseline skipped: redis-server/redis-benchmark not installed (`apt-get install redis-server` adds it).");
            return null;
        }

        int port;
        using (var probe = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        using var server = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("redis-server",
            $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no") { RedirectStandardOutput = true, UseShellExecute = false })!;
        try
        {
            await Task.Delay(500);
            var bench = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("redis-benchmark",
                $"-h 127.0.0.1 -p {port} -t get,set -d 1024 -P {pipeline} -c 16 -n {requests} --csv") { RedirectStandardOutput = true, UseShellExecute = false })!;
            var output = await bench.StandardOutput.ReadToEndAsync();
            await bench.WaitForExitAsync();
            double Rate(string test) => output.Split('\n')
                .Where(l => l.StartsWith($"\"{test}\"", StringComparison.Ordinal))
                .Select(l => double.Parse(l.Split(',')[1].Trim('"'), System.Globalization.CultureInfo.InvariantCulture))
                .FirstOrDefault();
            return (Rate("GET"), Rate("SET"));
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync();
        }
    }

    private static bool OnPath(string program) =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, program)));

    public static string Describe() => $"{System.Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {System.Environment.Version}";
}
