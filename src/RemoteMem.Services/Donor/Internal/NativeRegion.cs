using System.Runtime.InteropServices;

namespace RemoteMem.Services.Donor.Internal;

/// <summary>
/// One large, page-aligned native memory region for the donor's pool, committed lazily: on Linux an
/// anonymous private mapping with MAP_NORESERVE, so a donor that offers 16 GiB and leases 1 GiB has
/// about 1 GiB resident. <see cref="Discard"/> zeroes a range by handing its pages back to the kernel
/// (MADV_DONTNEED), which also returns the memory to the node. Elsewhere it falls back to an aligned
/// allocation and explicit clearing.
/// </summary>
internal sealed unsafe partial class NativeRegion : IDisposable
{
    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20, MapNoReserve = 0x4000, MadvDontNeed = 4;
    private readonly bool _mapped;
    private byte* _base;

    public NativeRegion(long length)
    {
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
        if (OperatingSystem.IsLinux())
        {
            nint address = mmap(0, (nuint)length, ProtRead | ProtWrite, MapPrivate | MapAnonymous | MapNoReserve, -1, 0);
            if (address == -1)
                throw new OutOfMemoryException($"Could not reserve {length} bytes of address space for the pool (mmap errno {Marshal.GetLastPInvokeError()}). Lower --memory.");
            _base = (byte*)address;
            _mapped = true;
        }
        else
        {
            _base = (byte*)NativeMemory.AlignedAlloc((nuint)length, 4096);
            NativeMemory.Clear(_base, (nuint)length);
        }
    }

    public long Length { get; }

    public byte* Base => _base;

    public Span<byte> Slice(long offset, int length)
    {
        if ((ulong)offset > (ulong)Length || (ulong)length > (ulong)(Length - offset))
            throw new ArgumentOutOfRangeException(nameof(offset));
        return new Span<byte>(_base + offset, length);
    }

    /// <summary>Zeroes [offset, offset + length) and releases its pages; the range must be page-aligned.</summary>
    public void Discard(long offset, long length)
    {
        if (_mapped)
        {
            if (madvise((nint)(_base + offset), (nuint)length, MadvDontNeed) == 0) return;
        }

        for (long done = 0; done < length; done += int.MaxValue)
            NativeMemory.Clear(_base + offset + done, (nuint)Math.Min(int.MaxValue, length - done));
    }

    public void Dispose()
    {
        if (_base == null) return;
        if (_mapped) munmap((nint)_base, (nuint)Length);
        else NativeMemory.AlignedFree(_base);
        _base = null;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(nint address, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int madvise(nint address, nuint length, int advice);
}
