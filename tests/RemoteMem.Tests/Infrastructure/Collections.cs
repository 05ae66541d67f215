namespace RemoteMem.Tests.Infrastructure;

/// <summary>Tests that measure process-wide quantities (allocated bytes) run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Isolated
{
    public const string Name = "isolated";
}

/// <summary>Multi-process tests share the two cores; running them one at a time keeps timeouts meaningful.</summary>
[CollectionDefinition(Name)]
public sealed class Processes
{
    public const string Name = "processes";
}
