namespace RemoteMem.Tests.Infrastructure;

/// <summary>Allocation measurements mean something only in Release builds.</summary>
public static class ReleaseBuild
{
    /// <summary>Fails the calling test in a Debug build, where async methods compile to classes that allocate on every call by design.</summary>
    public static void Require()
    {
#if DEBUG
        Assert.Fail("Measure allocations in a Release build: dotnet test -c Release (./test.sh does).");
#endif
    }
}
