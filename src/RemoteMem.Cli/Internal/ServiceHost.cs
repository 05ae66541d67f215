using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RemoteMem.Cli.Internal;

/// <summary>
/// Builds the generic host for the long-running commands. Configuration, lowest to highest precedence:
/// appsettings.json (working directory, or --config), REMOTEMEM_-prefixed environment variables
/// (e.g. REMOTEMEM_Donor__Memory=16GiB), then the command-line options actually given.
/// Logs go to stderr; stdout carries only the READY line that scripts wait for.
/// </summary>
internal static class ServiceHost
{
    public static readonly Option<string?> ConfigOption = new("--config") { Description = "An appsettings.json file to read settings from." };
    public static readonly Option<string?> SecretFileOption = new("--secret-file") { Description = "Cluster secret file (or set REMOTEMEM_SECRET). Create one with `remotemem secret --out FILE`." };
    public static readonly Option<string> LogLevelOption = new("--log-level") { Description = "Trace, Debug, Information, Warning, Error.", DefaultValueFactory = _ => "Information" };

    public static HostApplicationBuilder CreateBuilder(ParseResult parse, IDictionary<string, string?> overrides)
    {
        // Keep the defaults (they install the console lifetime that turns SIGTERM/SIGINT into a graceful
        // stop) but replace their configuration sources with ours.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = Directory.GetCurrentDirectory() });
        builder.Configuration.Sources.Clear();
        var configFile = parse.GetValue(ConfigOption);
        builder.Configuration.AddJsonFile(configFile ?? Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: configFile is null);
        builder.Configuration.AddEnvironmentVariables("REMOTEMEM_");
        var secretFile = parse.GetValue(SecretFileOption);
        if (secretFile is not null) overrides["Cluster:SecretFile"] = secretFile;
        builder.Configuration.AddInMemoryCollection(overrides.Where(kv => kv.Value is not null));

        var level = Enum.TryParse<LogLevel>(parse.GetValue(LogLevelOption), ignoreCase: true, out var parsed) ? parsed : LogLevel.Information;
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(level);
        // A failed start is reported once, as a one-line message by RunAsync, not as the host's stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        return builder;
    }

    /// <summary>Runs a host until SIGTERM/SIGINT; turns start-up failures (bad options, port in use) into a message and exit code 2.</summary>
    public static async Task<int> RunAsync(IHost host, Func<IHost, Task> onStarted)
    {
        try
        {
            await host.StartAsync();
        }
        catch (Exception ex) when (ex is Microsoft.Extensions.Options.OptionsValidationException or InvalidOperationException or FormatException or FileNotFoundException or OutOfMemoryException)
        {
            await Console.Error.WriteLineAsync("remotemem: " + ex.Message);
            host.Dispose();
            return 2;
        }

        await onStarted(host);
        await host.WaitForShutdownAsync();
        host.Dispose();
        // A service that gave up (e.g. a donor that never found its manager) sets a non-zero exit code.
        return Environment.ExitCode;
    }
}
