using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;

namespace RemoteMem.Transport;

/// <summary>
/// Segments a drain spilled to files (a folder every node sees, e.g. on the parallel file system)
/// because no donor had room. Their endpoint is "file:" plus the path. Reads and writes go straight to
/// the file; this is the slow path that keeps data an application opted to keep, not a data plane.
/// </summary>
internal sealed class SpilledSegments : IDisposable
{
    private readonly ConcurrentDictionary<string, SafeFileHandle> _files = new();

    public static bool Holds(SegmentTarget target) => SpillEndpoint.PathOf(target.Endpoint) is not null;

    public unsafe void Execute(bool write, SegmentTarget target, ReadOnlySpan<IoOp> ops)
    {
        SegmentAccess.Check(target, ops, write);
        var file = _files.GetOrAdd(SpillEndpoint.PathOf(target.Endpoint)!, path => File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite));
        foreach (var op in ops)
        {
            var memory = new Span<byte>((void*)op.Local, op.Length);
            if (write)
            {
                RandomAccess.Write(file, memory, op.RemoteOffset);
            }
            else
            {
                int done = 0;
                while (done < memory.Length)
                {
                    int n = RandomAccess.Read(file, memory[done..], op.RemoteOffset + done);
                    if (n == 0) throw new IOException($"The spilled segment {file} ends before byte {op.RemoteOffset + done}.");
                    done += n;
                }
            }
        }

        if (write) RandomAccess.FlushToDisk(file);
    }

    public ValueTask ExecuteAsync(bool write, SegmentTarget target, ReadOnlyMemory<IoOp> ops) =>
        new(Task.Run(() => Execute(write, target, ops.Span)));

    public void Dispose()
    {
        foreach (var file in _files.Values) file.Dispose();
        _files.Clear();
    }
}
