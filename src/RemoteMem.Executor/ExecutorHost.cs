using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RemoteMem.Executor.Internal;
using RemoteMem.Transport;

namespace RemoteMem.Executor;

/// <summary>
/// The body of `remotemem executor`: reads the bootstrap from standard input, loads the package,
/// listens, tells the donor where on standard output, and serves until the lease ends.
/// </summary>
public static class ExecutorHost
{
    /// <summary>The line an executor prints once it serves: <c>READY host:port load-ms</c>.</summary>
    public const string ReadyPrefix = "READY ";

    /// <summary>The line an executor prints when it cannot start: <c>FAILED reason</c>.</summary>
    public const string FailedPrefix = "FAILED ";

    public static int Run(ExecutorSettings settings, TextReader stdin, TextWriter stdout, ILoggerFactory loggers)
    {
        var started = Stopwatch.GetTimestamp();
        ExecutorBootstrap bootstrap;
        FunctionCatalog catalog;
        try
        {
            bootstrap = ExecutorBootstrap.Read(stdin);
            catalog = FunctionCatalog.Load(settings.PackageDirectory);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException or OverflowException)
        {
            stdout.WriteLine(FailedPrefix + ex.Message.ReplaceLineEndings(" "));
            stdout.Flush();
            return 3;
        }

        using var runtime = new ExecutorRuntime(settings, bootstrap, catalog, loggers);
        var endpoint = Endpoints.ParseListen(settings.Listen);
        using var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(endpoint);
        listener.Listen(64);
        var bound = (System.Net.IPEndPoint)listener.LocalEndPoint!;
        var advertised = $"{settings.Advertise ?? bound.Address.ToString()}:{bound.Port}";
        var loadMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        ExecutorLog.Ready(runtime.Logger, settings.LeaseId, advertised, catalog.Names.Length, settings.Cores, settings.HotTimeoutMs);
        stdout.WriteLine(ReadyPrefix + advertised + " " + loadMs.ToString(CultureInfo.InvariantCulture));
        stdout.Flush();

        var reason = runtime.Serve(listener, stdin);
        ExecutorLog.Stopping(runtime.Logger, settings.LeaseId, reason);
        ExecutorLog.Unloaded(runtime.Logger, catalog.Unload());
        return 0;
    }
}
