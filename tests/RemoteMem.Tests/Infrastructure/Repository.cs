namespace RemoteMem.Tests.Infrastructure;

/// <summary>Files of the repository itself (scripts and samples that tests run as a user would).</summary>
public static class Repository
{
    /// <summary>The repository's root: the first folder above the test binaries that holds RemoteMem.sln.</summary>
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RemoteMem.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException($"No RemoteMem.sln above {AppContext.BaseDirectory}.");
    }
}
