using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace RemoteMem.Services.Donor.Executors;

/// <summary>
/// One `remotemem executor` child process. The donor holds its standard input open for the lease's
/// life: closing it (stop, expiry, or the donor dying) makes the executor exit, so none is orphaned.
/// Its standard error goes to the donor's log.
/// </summary>
internal sealed class ExecutorProcess : IDisposable
{
    private readonly Process _process;
    private readonly ILogger _logger;
    private int _stopped;

    private ExecutorProcess(ulong leaseId, Process process, ILogger logger)
    {
        LeaseId = leaseId;
        _process = process;
        _logger = logger;
    }

    public ulong LeaseId { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Completes with the exit code when the process ends.</summary>
    public Task<int> Exited { get; private set; } = Task.FromResult(0);

    /// <summary>Starts the process, hands it the bootstrap and waits for its READY line.</summary>
    public static async Task<(ExecutorProcess Process, string Endpoint, uint LoadMs)> StartAsync(
        ulong leaseId, IReadOnlyList<string> command, IDictionary<string, string> environment, string bootstrap, TimeSpan timeout, ILogger logger)
    {
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Skip(1)) info.ArgumentList.Add(argument);
        foreach (var (name, value) in environment) info.Environment[name] = value;

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("Process.Start returned nothing.");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new InvalidOperationException($"Cannot start the executor `{string.Join(' ', command)}`: {ex.Message}. Set the donor's --executor-command.", ex);
        }

        var executor = new ExecutorProcess(leaseId, process, logger);
        var errors = new Queue<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (errors)
            {
                errors.Enqueue(e.Data);
                if (errors.Count > 20) errors.Dequeue();
            }

            ExecutorLogLine(logger, leaseId, e.Data);
        };
        process.BeginErrorReadLine();
        executor.Exited = process.WaitForExitAsync().ContinueWith(_ => process.ExitCode, TaskScheduler.Default);

        try
        {
            await process.StandardInput.WriteAsync(bootstrap).ConfigureAwait(false);
            await process.StandardInput.FlushAsync().ConfigureAwait(false);
            using var wait = new CancellationTokenSource(timeout);
            while (true)
            {
                var line = await process.StandardOutput.ReadLineAsync(wait.Token).ConfigureAwait(false);
                if (line is null)
                {
                    await executor.Exited.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                    string tail;
                    lock (errors) tail = string.Join(" | ", errors.TakeLast(5));
                    throw new InvalidOperationException($"The executor exited with code {process.ExitCode} before it was ready{(tail.Length > 0 ? ": " + tail : ".")}");
                }

                if (line.StartsWith(Executor.ExecutorHost.FailedPrefix, StringComparison.Ordinal))
                    throw new ExecutorStartException(line[Executor.ExecutorHost.FailedPrefix.Length..]);
                if (!line.StartsWith(Executor.ExecutorHost.ReadyPrefix, StringComparison.Ordinal)) continue;
                var parts = line[Executor.ExecutorHost.ReadyPrefix.Length..].Split(' ');
                _ = DrainStdoutAsync(process);
                return (executor, parts[0], uint.Parse(parts[1], CultureInfo.InvariantCulture));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or TimeoutException or InvalidOperationException or ExecutorStartException)
        {
            executor.Dispose(); // kills it if it still runs
            if (ex is OperationCanceledException)
                throw new InvalidOperationException($"The executor did not report ready within {timeout.TotalSeconds:0} s.", ex);
            throw;
        }
    }

    // Keep reading so a chatty executor never blocks on a full pipe.
    private static async Task DrainStdoutAsync(Process process)
    {
        try
        {
            while (await process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is not null)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    /// <summary>Asks the executor to exit (closes its standard input), and kills it if it has not within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        try
        {
            _process.StandardInput.Close();
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
        }

        try
        {
            await Exited.WaitAsync(grace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Kill();
        }
    }

    /// <summary>Kills the process and waits (blocking) until it is gone.</summary>
    public void KillAndWait(TimeSpan timeout)
    {
        Kill();
        try
        {
            _process.WaitForExit(timeout);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static void ExecutorLogLine(ILogger logger, ulong leaseId, string line) => DonorLog.ExecutorOutput(logger, leaseId, line);
}

/// <summary>The executor itself refused to start (a bad package, a function that cannot be created).</summary>
internal sealed class ExecutorStartException(string message) : Exception(message);
