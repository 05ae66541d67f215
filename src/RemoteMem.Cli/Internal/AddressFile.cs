using System.Net;
using RemoteMem.Transport;

namespace RemoteMem.Cli.Internal;

/// <summary>
/// The manager's address published as a one-line file in a shared folder, so that donors and
/// applications started by the batch system find it without knowing the manager's node in advance.
/// </summary>
internal static class AddressFile
{
    /// <summary>The endpoint others should dial: the bound one, with this host's name in place of a wildcard address.</summary>
    public static string Reachable(string bound)
    {
        var (host, port) = Endpoints.Split(bound);
        return host is "0.0.0.0" or "::" or "*" ? $"{Dns.GetHostName()}:{port}" : bound;
    }

    /// <summary>Writes atomically (temporary file, then rename), so a reader never sees half a line.</summary>
    public static void Write(string path, string endpoint)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = $"{full}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, endpoint + "\n");
        File.Move(temporary, full, overwrite: true);
    }

    /// <summary>Removes the file on a clean stop, unless another manager has replaced it since.</summary>
    public static void RemoveIfOurs(string path, string endpoint)
    {
        try
        {
            if (File.ReadAllText(path).Trim() == endpoint) File.Delete(path);
        }
        catch (IOException)
        {
            // Already gone or unreadable: nothing of ours to clean up.
        }
    }
}
