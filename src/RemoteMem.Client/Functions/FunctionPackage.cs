using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;

namespace RemoteMem.Client.Functions;

/// <summary>
/// A function package: the user's assembly and the dependencies it carries, as one deterministic zip
/// named by its SHA-256. Donors keep packages by that hash, so a package is uploaded to a donor once
/// and reused by every later lease. Assemblies the executor provides itself (the framework, the
/// RemoteMem function SDK, ILGPU, MemoryPack, logging abstractions) are left out.
/// </summary>
public sealed class FunctionPackage
{
    private static readonly DateTimeOffset FixedTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private FunctionPackage(string entry, byte[] bytes)
    {
        Entry = entry;
        Bytes = bytes;
        Hash = SHA256.HashData(bytes);
    }

    /// <summary>The assembly the executor loads and scans for functions.</summary>
    public string Entry { get; }

    /// <summary>The zip's bytes.</summary>
    public byte[] Bytes { get; }

    /// <summary>SHA-256 of <see cref="Bytes"/>: the package's name on donors.</summary>
    public byte[] Hash { get; }

    public string HashText => Convert.ToHexString(Hash).ToLowerInvariant();

    /// <summary>
    /// Packages <paramref name="assembly"/> (loaded from a file) and the assemblies it references that
    /// sit next to it and that the executor does not provide, transitively.
    /// </summary>
    public static FunctionPackage FromAssembly(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        if (string.IsNullOrEmpty(assembly.Location))
            throw new ArgumentException($"{assembly.GetName().Name} was not loaded from a file, so it cannot be packaged.", nameof(assembly));
        var directory = Path.GetDirectoryName(assembly.Location)!;
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal) { [Path.GetFileName(assembly.Location)] = assembly.Location };
        var pending = new Queue<AssemblyName>(assembly.GetReferencedAssemblies());
        while (pending.TryDequeue(out var name))
        {
            if (name.Name is null || IsProvidedByExecutor(name.Name)) continue;
            var path = Path.Combine(directory, name.Name + ".dll");
            if (!File.Exists(path) || !files.TryAdd(name.Name + ".dll", path)) continue;
            foreach (var reference in ReferencesOf(path)) pending.Enqueue(reference);
        }

        return FromFiles(Path.GetFileName(assembly.Location), files);
    }

    /// <summary>Packages explicit files (name in package → path on disk); <paramref name="entry"/> names the assembly to load.</summary>
    public static FunctionPackage FromFiles(string entry, IReadOnlyDictionary<string, string> files)
    {
        if (!files.ContainsKey(entry)) throw new ArgumentException($"The entry assembly '{entry}' is not among the files.", nameof(entry));
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Add(zip, "entry.txt", System.Text.Encoding.UTF8.GetBytes(entry));
            foreach (var (name, path) in files.OrderBy(f => f.Key, StringComparer.Ordinal)) Add(zip, name, File.ReadAllBytes(path));
        }

        return new FunctionPackage(entry, buffer.ToArray());
    }

    private static void Add(ZipArchive zip, string name, byte[] content)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        entry.LastWriteTime = FixedTime;
        using var stream = entry.Open();
        stream.Write(content);
    }

    // The assemblies a function shares types with the executor through (its context, its accelerator,
    // its serializer, its logger) come from the executor, so both sides see one type. The framework is
    // never next to the user's assembly (framework-dependent apps), so the directory test leaves it out.
    private static bool IsProvidedByExecutor(string name) =>
        name is "RemoteMem.Functions" or "MemoryPack.Core" or "Microsoft.Extensions.Logging.Abstractions"
        || name.StartsWith("ILGPU", StringComparison.Ordinal);

    // Reads references without loading the assembly into this process.
    private static IEnumerable<AssemblyName> ReferencesOf(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new System.Reflection.PortableExecutable.PEReader(stream);
        var metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(reader);
        return metadata.AssemblyReferences.Select(h => metadata.GetAssemblyReference(h).GetAssemblyName()).ToList();
    }
}
