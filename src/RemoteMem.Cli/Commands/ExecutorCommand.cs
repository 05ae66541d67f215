using System.CommandLine;
using Microsoft.Extensions.Logging;
using RemoteMem.Executor;

namespace RemoteMem.Cli.Commands;

/// <summary>
/// `remotemem executor`: one function lease's process. Donors start it (never a user): the lease key
/// and near-data segments arrive on standard input, and it exits when standard input closes.
/// </summary>
internal static class ExecutorCommand
{
    public static Command Create()
    {
        var lease = new Option<ulong>("--lease-id") { Required = true, Description = "The executor lease this process serves." };
        var cores = new Option<int>("--cores") { DefaultValueFactory = _ => 1, Description = "Worker threads (leased cores)." };
        var gpus = new Option<int>("--gpus") { Description = "GPUs leased (0: no accelerator)." };
        var package = new Option<string>("--package") { Required = true, Description = "The extracted function package folder." };
        var listen = new Option<string>("--listen") { DefaultValueFactory = _ => "127.0.0.1:0", Description = "host:port to listen on for the client." };
        var advertise = new Option<string?>("--advertise") { Description = "Host name the client connects to." };
        var hot = new Option<int>("--hot-timeout") { DefaultValueFactory = _ => 100, Description = "Idle ms before a hot worker goes warm: -1 always hot, 0 always warm." };
        var poolFd = new Option<int>("--pool-fd") { DefaultValueFactory = _ => -1, Description = "The donor's pool (inherited file descriptor) for near-data functions." };
        var poolLength = new Option<long>("--pool-length") { Description = "Length of the donor's pool in bytes." };
        var logLevel = new Option<LogLevel>("--log-level") { DefaultValueFactory = _ => LogLevel.Information, Description = "Least severe log level written to standard error." };
        var command = new Command("executor", "Run one function lease's executor (started by a donor, not by hand).")
        {
            lease, cores, gpus, package, listen, advertise, hot, poolFd, poolLength, logLevel,
        };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            var settings = new ExecutorSettings
            {
                LeaseId = parse.GetValue(lease),
                Cores = Math.Max(1, parse.GetValue(cores)),
                Gpus = parse.GetValue(gpus),
                PackageDirectory = parse.GetValue(package)!,
                Listen = parse.GetValue(listen)!,
                Advertise = parse.GetValue(advertise),
                HotTimeoutMs = parse.GetValue(hot),
                PoolFd = parse.GetValue(poolFd),
                PoolLength = parse.GetValue(poolLength),
            };
            // Logs go to standard error, which the donor copies into its own log; standard output
            // carries only the READY/FAILED line.
            using var loggers = LoggerFactory.Create(b => b
                .SetMinimumLevel(parse.GetValue(logLevel))
                .AddSimpleConsole(o => o.SingleLine = true)
                .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
            return ExecutorHost.Run(settings, Console.In, Console.Out, loggers);
        });
        return command;
    }
}
