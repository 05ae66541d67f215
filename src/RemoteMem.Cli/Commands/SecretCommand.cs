using System.CommandLine;
using RemoteMem.Wire;

namespace RemoteMem.Cli.Commands;

/// <summary>`remotemem secret`: makes a cluster secret.</summary>
internal static class SecretCommand
{
    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "File to write (created with owner-only permissions); stdout when omitted." };
        var command = new Command("secret", "Create a random cluster secret. Every manager, donor and client of one cluster must share it.") { output };
        command.SetAction(async (parse, cancellationToken) =>
        {
            ClusterSecret.Generate(out var text);
            var path = parse.GetValue(output);
            if (path is null)
            {
                Console.Out.WriteLine(text);
                return 0;
            }

            if (File.Exists(path))
            {
                await Console.Error.WriteLineAsync($"remotemem secret: {path} exists; not overwriting a cluster's secret.");
                return 2;
            }

            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            await using (var file = new StreamWriter(path, System.Text.Encoding.ASCII, options)) await file.WriteLineAsync(text);
            await Console.Error.WriteLineAsync($"remotemem secret: wrote {path}; pass it with --secret-file or REMOTEMEM_SECRET=@{path}.");
            return 0;
        });
        return command;
    }
}
