using RemoteMem.Transport;

namespace RemoteMem.Services.Donor.Internal;

/// <summary>
/// Where a donor finds its manager: the configured endpoint, or a file the manager wrote
/// (`remotemem manager --address-file`). Batch jobs start in any order, so a missing file is waited
/// for; it is read again on every reconnect, so a manager restarted elsewhere is found.
/// </summary>
internal static class ManagerAddress
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    public static async Task<string> ResolveAsync(DonorOptions options, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(options.Manager)) return options.Manager;
        var path = options.ManagerFile!;
        var deadline = DateTime.UtcNow + options.ManagerFileWait;
        while (true)
        {
            if (TryRead(path) is { } endpoint) return endpoint;
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException(
                    $"The manager's address file {path} did not appear (or held no host:port) within {options.ManagerFileWait.TotalSeconds:0} s: start `remotemem manager --address-file {path}` (on a folder every node sees), or pass --manager HOST:PORT.");
            }

            await Task.Delay(Poll, cancellationToken);
        }
    }

    /// <summary>The endpoint in <paramref name="path"/>, or null while the file is missing, empty or half-written.</summary>
    internal static string? TryRead(string path)
    {
        try
        {
            var text = File.ReadAllText(path).Trim();
            if (text.Length == 0) return null;
            Endpoints.Split(text);
            return text;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or FormatException or ArgumentException)
        {
            return null;
        }
    }
}
