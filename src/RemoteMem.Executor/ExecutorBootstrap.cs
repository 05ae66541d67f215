using System.Globalization;

namespace RemoteMem.Executor;

/// <summary>
/// What the donor writes to an executor's standard input before anything else: the lease key (hex),
/// then the near-data segments, one per line. The donor then keeps standard input open; when it closes
/// (the donor stopped the lease, or died) the executor exits, so no executor outlives its donor.
/// </summary>
public sealed record ExecutorBootstrap(byte[] Key, IReadOnlyList<ExecutorBootstrap.Segment> Segments)
{
    /// <summary>A segment of the client's in the donor's pool, with its place in the client's allocation.</summary>
    public sealed record Segment(ulong LeaseId, int Column, int Columns, int StripeSize, long AllocationLength, long PoolOffset, long Length);

    public string Encode()
    {
        var lines = new List<string> { Convert.ToHexString(Key), Segments.Count.ToString(CultureInfo.InvariantCulture) };
        lines.AddRange(Segments.Select(s => string.Join(' ', s.LeaseId, s.Column, s.Columns, s.StripeSize, s.AllocationLength, s.PoolOffset, s.Length)));
        return string.Join('\n', lines) + "\n";
    }

    public static ExecutorBootstrap Read(TextReader reader)
    {
        string Line() => reader.ReadLine() ?? throw new InvalidDataException("Standard input ended before the executor's bootstrap (lease key and segments) was complete.");
        var key = Convert.FromHexString(Line().Trim());
        int count = int.Parse(Line(), CultureInfo.InvariantCulture);
        var segments = new List<Segment>(count);
        for (int i = 0; i < count; i++)
        {
            var f = Line().Split(' ');
            var inv = CultureInfo.InvariantCulture;
            segments.Add(new Segment(ulong.Parse(f[0], inv), int.Parse(f[1], inv), int.Parse(f[2], inv), int.Parse(f[3], inv), long.Parse(f[4], inv), long.Parse(f[5], inv), long.Parse(f[6], inv)));
        }

        return new ExecutorBootstrap(key, segments);
    }
}
