using System.Runtime.InteropServices;

namespace RemoteMem.Tests.Fabric;

/// <summary>
/// Page-aligned native memory from mmap with an inaccessible guard page right after it, so an access past the
/// end fails deterministically even where the provider does not range-check (shm copies with
/// process_vm_readv, and in one test process "past the end" would otherwise be some other live allocation).
/// </summary>
internal sealed unsafe partial class NativeRegion : IDisposable
{
    private const int ProtNone = 0, ProtRead = 1, ProtWrite = 2, MapPrivate = 0x02, MapAnonymous = 0x20;
    private readonly nint _mapping;
    private readonly nuint _mappedBytes;
    private int _disposed;

    public NativeRegion(long length)
    {
        long page = Environment.SystemPageSize;
        long rounded = (length + page - 1) / page * page;
        _mappedBytes = (nuint)(rounded + page);
        _mapping = Mmap(0, _mappedBytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (_mapping == -1) throw new InvalidOperationException($"mmap of {_mappedBytes} bytes failed: errno {Marshal.GetLastPInvokeError()}");
        // The region ends exactly at the guard page.
        Address = _mapping + (nint)(rounded - length);
        Length = length;
        if (Mprotect(_mapping + (nint)rounded, (nuint)page, ProtNone) != 0) throw new InvalidOperationException("mprotect of the guard page failed");
    }

    public nint Address { get; }

    public long Length { get; }

    public Span<byte> Span(long offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + length, Length);
        return new Span<byte>((void*)(Address + (nint)offset), length);
    }

    public void Fill(int seed)
    {
        const int chunk = 1 << 20;
        for (long offset = 0; offset < Length; offset += chunk)
        {
            var span = Span(offset, (int)Math.Min(chunk, Length - offset));
            for (int i = 0; i < span.Length; i++) span[i] = Infrastructure.TestPattern.At(offset + i, seed);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) Munmap(_mapping, _mappedBytes);
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    private static partial int Mprotect(nint address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);
}
