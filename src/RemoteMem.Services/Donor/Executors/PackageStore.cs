using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Services.Donor.Executors;

/// <summary>
/// Function packages by SHA-256: uploaded once, checked, extracted to <c>folder/hash/</c> and reused
/// by every later lease (and by later donors on the node that share the folder). An upload arrives in
/// chunks, in order; a wrong hash, a broken archive or a path that escapes the folder is refused with
/// <see cref="ErrorCode.PackageInvalid"/> and leaves nothing behind.
/// </summary>
internal sealed class PackageStore(string folder)
{
    /// <summary>The largest package accepted.</summary>
    public const long MaxPackageBytes = 256L << 20;

    private readonly ConcurrentDictionary<string, MemoryStream> _uploads = new(StringComparer.Ordinal);

    public string Folder { get; } = folder;

    public string PathOf(ReadOnlySpan<byte> hash) => Path.Combine(Folder, Convert.ToHexString(hash).ToLowerInvariant());

    public bool Has(ReadOnlySpan<byte> hash) => File.Exists(Path.Combine(PathOf(hash), "entry.txt"));

    /// <summary>Takes one chunk; returns true when the package is complete and stored.</summary>
    public bool Upload(PackageUpload chunk)
    {
        if (chunk.TotalLength == 0 || chunk.TotalLength > MaxPackageBytes)
            throw new WireException(ErrorCode.InvalidArgument, $"A package of {chunk.TotalLength} bytes is outside (0, {MaxPackageBytes}].");
        var key = Convert.ToHexString(chunk.Hash);
        if (chunk.Offset == 0 && Has(chunk.Hash)) return true; // once per upload, not per chunk
        var buffer = _uploads.GetOrAdd(key, _ => new MemoryStream());
        lock (buffer)
        {
            if ((ulong)buffer.Length != chunk.Offset)
            {
                // Out of order (or a restarted upload): start over from offset 0 only.
                if (chunk.Offset != 0)
                    throw new WireException(ErrorCode.InvalidArgument, $"Package chunk at offset {chunk.Offset}, expected {buffer.Length}; upload chunks in order.");
                buffer.SetLength(0);
            }

            if (chunk.Offset + (ulong)chunk.Chunk.Length > chunk.TotalLength)
                throw new WireException(ErrorCode.InvalidArgument, $"Package chunk runs past the declared {chunk.TotalLength} bytes.");
            buffer.Write(chunk.Chunk.Span);
            if ((ulong)buffer.Length < chunk.TotalLength) return false;
            _uploads.TryRemove(key, out _);
            Store(chunk.Hash, buffer.ToArray());
            return true;
        }
    }

    private void Store(byte[] hash, byte[] bytes)
    {
        var actual = SHA256.HashData(bytes);
        if (!actual.AsSpan().SequenceEqual(hash))
            throw new WireException(ErrorCode.PackageInvalid, $"The package's bytes hash to {Convert.ToHexString(actual).ToLowerInvariant()[..16]}…, not the {Convert.ToHexString(hash).ToLowerInvariant()[..16]}… it was announced as.");
        Directory.CreateDirectory(Folder);
        var final = PathOf(hash);
        var staging = final + ".staging-" + Guid.NewGuid().ToString("n");
        try
        {
            Extract(bytes, staging);
            try
            {
                Directory.Move(staging, final);
            }
            catch (IOException) when (Has(hash))
            {
                // Another upload of the same package won the race; theirs is identical.
            }
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    private static void Extract(byte[] bytes, string destination)
    {
        var root = Path.GetFullPath(destination) + Path.DirectorySeparatorChar;
        try
        {
            using var archive = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
            foreach (var entry in archive.Entries)
            {
                var path = Path.GetFullPath(Path.Combine(destination, entry.FullName));
                if (!path.StartsWith(root, StringComparison.Ordinal))
                    throw new WireException(ErrorCode.PackageInvalid, $"Package entry '{entry.FullName}' points outside the package.");
                if (entry.FullName.EndsWith('/')) continue;
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                entry.ExtractToFile(path);
            }
        }
        catch (InvalidDataException ex)
        {
            throw new WireException(ErrorCode.PackageInvalid, $"The package is not a readable zip archive: {ex.Message}");
        }

        if (!File.Exists(Path.Combine(destination, "entry.txt")))
            throw new WireException(ErrorCode.PackageInvalid, "The package has no entry.txt naming its assembly (build packages with FunctionPackage.FromAssembly).");
    }
}
