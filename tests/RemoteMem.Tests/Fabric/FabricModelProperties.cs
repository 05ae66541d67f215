using FsCheck;
using FsCheck.Fluent;
using RemoteMem.Tests.Infrastructure;

namespace RemoteMem.Tests.Fabric;

public abstract record FabricStep
{
    public sealed record Read(long Offset, int Length) : FabricStep;

    /// <summary>Several reads of distinct local slots in flight at once.</summary>
    public sealed record ReadBatch(long[] Offsets, int Length) : FabricStep;

    public sealed record Write(long Offset, int Length, int Seed, bool DeliveryComplete) : FabricStep;
}

/// <summary>
/// Random reads and writes through a fabric endpoint pair equal the same steps on a byte array: the donor's
/// memory is the array, and every read returns what the array holds at that moment.
/// </summary>
public sealed class FabricModelProperties
{
    private const int MaxLength = 1 << 20;

    private static Arbitrary<FabricStep[]> Steps()
    {
        var length = Gen.Frequency((4, Gen.Choose(1, 256)), (3, Gen.Choose(257, 70_000)), (1, Gen.Choose(70_001, MaxLength)));
        Gen<long> OffsetFor(int l) => Gen.Choose(0, (int)(FabricPair.DonorBytes - l)).Select(o => (long)o);
        var read = from l in length from o in OffsetFor(l) select (FabricStep)new FabricStep.Read(o, l);
        var batch = from l in Gen.Choose(1, 65_536)
                    from offsets in Gen.ArrayOf(OffsetFor(l)).Where(a => a.Length is > 0 and <= 8)
                    select (FabricStep)new FabricStep.ReadBatch(offsets, l);
        var write = from l in length
                    from o in OffsetFor(l)
                    from s in Gen.Choose(0, 1000)
                    from dc in Gen.Elements(true, false)
                    select (FabricStep)new FabricStep.Write(o, l, s, dc);
        return Gen.ListOf(Gen.Frequency((3, read), (1, batch), (3, write))).Select(l => l.ToArray()).ToArbitrary();
    }

    [Theory]
    [InlineData(FabricTestEnvironment.Tcp)]
    [InlineData(FabricTestEnvironment.Shm)]
    public void Reads_and_writes_equal_a_byte_array(string provider)
    {
        using var pair = FabricPair.Open(provider);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(40).WithEndSize(30), Prop.ForAll(Steps(), (FabricStep[] steps) => Run(pair, steps).GetAwaiter().GetResult()));
    }

    private static async Task Run(FabricPair pair, FabricStep[] steps)
    {
        foreach (var step in steps)
        {
            switch (step)
            {
                case FabricStep.Read r:
                    await pair.ReadAsync(r.Offset, 0, r.Length);
                    pair.AssertLocalEqualsModel(0, r.Offset, r.Length);
                    break;

                case FabricStep.ReadBatch b:
                    var reads = new Task[b.Offsets.Length];
                    for (int i = 0; i < reads.Length; i++) reads[i] = pair.ReadAsync(b.Offsets[i], (long)i * b.Length, b.Length).AsTask();
                    await Task.WhenAll(reads);
                    for (int i = 0; i < reads.Length; i++) pair.AssertLocalEqualsModel((long)i * b.Length, b.Offsets[i], b.Length);
                    break;

                case FabricStep.Write w:
                    var data = TestPattern.Make(w.Offset, w.Length, w.Seed);
                    data.CopyTo(pair.ClientMemory.Span(0, w.Length));
                    await pair.WriteAsync(w.Offset, 0, w.Length, w.DeliveryComplete);
                    data.CopyTo(pair.Model.AsSpan((int)w.Offset));
                    break;
            }
        }
    }
}
