using System.Runtime.InteropServices;

namespace RemoteMem.Executor.Internal;

/// <summary>
/// The donor's pool mapped into the executor from the file descriptor it inherited: the same pages the
/// donor serves, so a function reads and writes the client's segments in place.
/// </summary>
internal sealed unsafe partial class PoolMapping : IDisposable
{
    private const int ProtRead = 1, ProtWrite = 2, MapShared = 1;
    private byte* _base;

    public PoolMapping(int fd, long length)
    {
        nint address = mmap(0, (nuint)length, ProtRead | ProtWrite, MapShared, fd, 0);
        if (address == -1)
            throw new InvalidOperationException($"Cannot map the donor's pool (fd {fd}, {length} bytes): errno {Marshal.GetLastPInvokeError()}.");
        _base = (byte*)address;
        Length = length;
    }

    public long Length { get; }

    public byte* At(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) is outside the pool's {Length} bytes.");
        return _base + offset;
    }

    public void Dispose()
    {
        if (_base == null) return;
        munmap((nint)_base, (nuint)Length);
        _base = null;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(nint address, nuint length);
}

/// <summary>A <see cref="Memory{T}"/> over native memory (a segment in the mapped pool).</summary>
internal sealed unsafe class NativeMemoryManager(byte* pointer, int length) : System.Buffers.MemoryManager<byte>
{
    public override Span<byte> GetSpan() => new(pointer, length);

    public override System.Buffers.MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
