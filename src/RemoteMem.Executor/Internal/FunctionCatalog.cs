using System.Reflection;
using System.Runtime.CompilerServices;
using RemoteMem.Functions;

namespace RemoteMem.Executor.Internal;

/// <summary>
/// A package's functions, loaded once per executor: by attribute and by <see cref="IFunctionModule"/>,
/// numbered so invocations name them by a small id instead of a string.
/// </summary>
internal sealed class FunctionCatalog
{
    private readonly Dictionary<string, uint> _ids;
    private readonly WeakReference _context;

    private FunctionCatalog(FunctionLoadContext context, FunctionRegistry registry)
    {
        _context = new WeakReference(context);
        Names = registry.Names.Order(StringComparer.Ordinal).ToArray();
        Functions = Names.Select(n => registry.TryGet(n, out var f) ? f : throw new InvalidOperationException()).ToArray();
        _ids = Names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => (uint)p.i, StringComparer.Ordinal);
    }

    public string[] Names { get; }

    public IRemoteFunction[] Functions { get; }

    public bool TryResolve(string name, out uint id) => _ids.TryGetValue(name, out id);

    /// <summary>Loads the package in <paramref name="directory"/>. Throws <see cref="InvalidDataException"/> naming what is wrong with it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static FunctionCatalog Load(string directory)
    {
        var entryFile = Path.Combine(directory, "entry.txt");
        if (!File.Exists(entryFile)) throw new InvalidDataException($"Package {directory} has no entry.txt naming its assembly.");
        var entry = File.ReadAllText(entryFile).Trim();
        var path = Path.Combine(directory, entry);
        if (entry.Length == 0 || entry.Contains('/') || !File.Exists(path))
            throw new InvalidDataException($"Package entry '{entry}' is not an assembly in the package.");

        var context = new FunctionLoadContext(directory);
        try
        {
            Assembly assembly;
            try
            {
                assembly = context.LoadFromAssemblyPath(path);
            }
            catch (BadImageFormatException ex)
            {
                throw new InvalidDataException($"Package entry '{entry}' is not a .NET assembly: {ex.Message}", ex);
            }

            var registry = new FunctionRegistry();
            Type[] types;
            try
            {
                types = assembly.GetExportedTypes();
            }
            catch (Exception ex) when (ex is ReflectionTypeLoadException or FileNotFoundException or FileLoadException)
            {
                throw new InvalidDataException($"Package entry '{entry}' needs an assembly the package does not carry: {ex.Message}", ex);
            }

            foreach (var type in types.Where(t => t is { IsClass: true, IsAbstract: false }))
            {
                if (type.GetCustomAttribute<RemoteFunctionAttribute>() is { } attribute)
                {
                    if (!typeof(IRemoteFunction).IsAssignableFrom(type))
                        throw new InvalidDataException($"{type.FullName} has [RemoteFunction(\"{attribute.Name}\")] but does not implement IRemoteFunction.");
                    registry.Add(attribute.Name, (IRemoteFunction)Create(type));
                }
            }

            foreach (var type in types.Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IFunctionModule).IsAssignableFrom(t)))
                ((IFunctionModule)Create(type)).Register(registry);

            if (registry.Names.Count == 0)
                throw new InvalidDataException($"Package entry '{entry}' registers no functions: mark IRemoteFunction classes with [RemoteFunction(\"name\")] or add an IFunctionModule.");
            return new FunctionCatalog(context, registry);
        }
        catch
        {
            context.Unload();
            throw;
        }
    }

    private static object Create(Type type)
    {
        try
        {
            return Activator.CreateInstance(type)!;
        }
        catch (Exception ex) when (ex is MissingMethodException or TargetInvocationException)
        {
            throw new InvalidDataException($"Cannot create {type.FullName}: {(ex as TargetInvocationException)?.InnerException?.Message ?? "it needs a public parameterless constructor"}.", ex);
        }
    }

    /// <summary>Starts unloading the package's load context; true once it has been collected.</summary>
    public bool Unload()
    {
        if (_context.Target is FunctionLoadContext context) context.Unload();
        Array.Clear(Functions);
        for (int i = 0; i < 10 && _context.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        return !_context.IsAlive;
    }
}
