using System.Runtime.InteropServices;

namespace RemoteMem.Services.Donor.Internal;

/// <summary>
/// One large, page-aligned native memory region for the donor's pool, committed lazily. On Linux it is
/// a memfd (anonymous shared memory) mapped with MAP_NORESERVE, so a donor that offers 16 GiB and
/// leases 1 GiB has about 1 GiB resident, and the executors it spawns can map the same pages for
/// near-data functions (they inherit <see cref="SharedFd"/>). <see cref="Discard"/> zeroes a range by
/// punching a hole in it, which also returns the memory to the node. Where memfd is refused it falls
/// back to an anonymous private mapping (no near-data), elsewhere to an aligned allocation.
/// </summary>
internal sealed unsafe partial class NativeRegion : IDisposable
{
    private const int ProtRead = 1, ProtWrite = 2, MapShared = 1, MapPrivate = 2, MapAnonymous = 0x20, MapNoReserve = 0x4000, MadvDontNeed = 4;
    private const int FallocPunchHole = 0x02, FallocKeepSize = 0x01;
    private readonly bool _mapped;
    private byte* _base;

    public NativeRegion(long length)
    {
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
        if (!OperatingSystem.IsLinux())
        {
            _base = (byte*)NativeMemory.AlignedAlloc((nuint)length, 4096);
            NativeMemory.Clear(_base, (nuint)length);
            return;
        }

        _mapped = true;
        // No MFD_CLOEXEC: executors inherit the descriptor (see the class comment).
        int fd = memfd_create("remotemem-pool", 0);
        if (fd >= 0 && ftruncate(fd, length) == 0)
        {
            nint shared = mmap(0, (nuint)length, ProtRead | ProtWrite, MapShared | MapNoReserve, fd, 0);
            if (shared != -1)
            {
                _base = (byte*)shared;
                SharedFd = fd;
                return;
            }
        }

        if (fd >= 0) close(fd);
        nint address = mmap(0, (nuint)length, ProtRead | ProtWrite, MapPrivate | MapAnonymous | MapNoReserve, -1, 0);
        if (address == -1)
            throw new OutOfMemoryException($"Could not reserve {length} bytes of address space for the pool (mmap errno {Marshal.GetLastPInvokeError()}). Lower --memory.");
        _base = (byte*)address;
    }

    public long Length { get; }

    public byte* Base => _base;

    /// <summary>The memfd behind the pool, inherited by child processes; -1 when the pool is private.</summary>
    public int SharedFd { get; } = -1;

    public Span<byte> Slice(long offset, int length)
    {
        if ((ulong)offset > (ulong)Length || (ulong)length > (ulong)(Length - offset))
            throw new ArgumentOutOfRangeException(nameof(offset));
        return new Span<byte>(_base + offset, length);
    }

    /// <summary>Zeroes [offset, offset + length) and releases its pages; the range must be page-aligned.</summary>
    public void Discard(long offset, long length)
    {
        if (SharedFd >= 0)
        {
            if (fallocate(SharedFd, FallocPunchHole | FallocKeepSize, offset, length) == 0) return;
        }
        else if (_mapped)
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
        if (SharedFd >= 0) close(SharedFd);
        _base = null;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int memfd_create(string name, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ftruncate(int fd, long length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fallocate(int fd, int mode, long offset, long length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(nint address, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int madvise(nint address, nuint length, int advice);
}
