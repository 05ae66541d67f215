using System.Reflection;
using System.Runtime.Loader;

namespace RemoteMem.Executor.Internal;

/// <summary>
/// The collectible load context of one package. Assemblies the executor itself runs on (the framework,
/// the function SDK, ILGPU, MemoryPack, logging) come from the default context, so a function's
/// <c>IRemoteFunction</c> is the executor's; everything else loads from the package folder.
/// </summary>
internal sealed class FunctionLoadContext(string directory) : AssemblyLoadContext($"package:{Path.GetFileName(directory)}", isCollectible: true)
{
    private static readonly HashSet<string> HostAssemblies = TrustedPlatformAssemblies();

    protected override Assembly? Load(AssemblyName name)
    {
        if (name.Name is null || HostAssemblies.Contains(name.Name)) return null;
        var path = Path.Combine(directory, name.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override nint LoadUnmanagedDll(string unmanagedDllName)
    {
        foreach (var candidate in new[] { unmanagedDllName, $"lib{unmanagedDllName}.so", $"{unmanagedDllName}.so" })
        {
            var path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return LoadUnmanagedDllFromPath(path);
        }

        return 0;
    }

    private static HashSet<string> TrustedPlatformAssemblies()
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string list)
            foreach (var path in list.Split(Path.PathSeparator))
                names.Add(Path.GetFileNameWithoutExtension(path));
        foreach (var assembly in Default.Assemblies)
            if (assembly.GetName().Name is { } loaded) names.Add(loaded);
        return names;
    }
}
