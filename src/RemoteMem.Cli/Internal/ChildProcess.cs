using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace RemoteMem.Cli.Internal;

/// <summary>
/// A `remotemem` service started as a child process: waits for its READY line on stdout, keeps the
/// tail of its log (stderr) for error messages, and stops it with signals, by PID.
/// </summary>
internal sealed partial class ChildProcess : IAsyncDisposable
{
    public const int SigKill = 9, SigTerm = 15, SigCont = 18, SigStop = 19;

    private readonly Process _process;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> _log = new();

    private ChildProcess(Process process, string role)
    {
        _process = process;
        Role = role;
    }

    public string Role { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The endpoint from the READY line.</summary>
    public string Endpoint { get; private set; } = "";

    /// <summary>The last lines the child logged.</summary>
    public string LogTail
    {
        get { lock (_log) return string.Join(Environment.NewLine, _log); }
    }

    /// <summary>Starts `remotemem ARGS` with the same runtime and assembly as this process.</summary>
    public static ChildProcess Start(string role, IEnumerable<string> args, IDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        var self = typeof(ChildProcess).Assembly.Location;
        var host = Environment.ProcessPath ?? "dotnet";
        if (Path.GetFileNameWithoutExtension(host) == "remotemem")
        {
            info.FileName = host;
        }
        else
        {
            // Under `dotnet remotemem.dll`, a test host or any other host: run our assembly with dotnet.
            info.FileName = Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
            info.ArgumentList.Add(self);
        }

        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {info.FileName}.");
        var child = new ChildProcess(process, role);
        process.OutputDataReceived += (_, e) => child.OnStdout(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnStderr(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _ = process.WaitForExitAsync().ContinueWith(_ =>
            child._ready.TrySetException(new InvalidOperationException($"{role} exited with code {process.ExitCode} before it was ready:{Environment.NewLine}{child.LogTail}")), TaskScheduler.Default);
        return child;
    }

    private void OnStdout(string? line)
    {
        if (line is null) return;
        Remember(line);
        if (line.StartsWith("READY ", StringComparison.Ordinal))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 3)
            {
                Endpoint = parts[2];
                _ready.TrySetResult(Endpoint);
            }
        }
    }

    private void OnStderr(string? line)
    {
        if (line is not null) Remember(line);
    }

    private void Remember(string line)
    {
        lock (_log)
        {
            _log.Enqueue(line);
            while (_log.Count > 40) _log.Dequeue();
        }
    }

    public async Task<string> WaitReadyAsync(TimeSpan timeout)
    {
        try
        {
            return await _ready.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Role} (pid {Pid}) was not ready within {timeout.TotalSeconds:0} s:{Environment.NewLine}{LogTail}");
        }
    }

    public void Signal(int signal)
    {
        if (_process.HasExited) return;
        if (OperatingSystem.IsWindows())
        {
            _process.Kill();
            return;
        }

        if (kill(_process.Id, signal) != 0 && !_process.HasExited)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}.");
    }

    /// <summary>SIGTERM, then SIGKILL if it has not exited within <paramref name="grace"/>. Returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan grace)
    {
        if (!_process.HasExited)
        {
            Signal(SigCont); // a stopped process cannot act on SIGTERM
            Signal(SigTerm);
            using var timeout = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Signal(SigKill);
                await _process.WaitForExitAsync();
            }
        }

        return _process.ExitCode;
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _process.WaitForExitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(TimeSpan.FromSeconds(5));
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
