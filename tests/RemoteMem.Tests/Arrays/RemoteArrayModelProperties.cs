using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;

namespace RemoteMem.Tests.Arrays;

public abstract record ArrayStep
{
    public sealed record Write(double Start, double Length, int Seed, bool Async) : ArrayStep;

    public sealed record Read(double Start, double Length, bool Async) : ArrayStep;

    public sealed record Set(double Index, int Value) : ArrayStep;

    public sealed record PinAndIncrement(double Index, int Count) : ArrayStep;

    public sealed record Prefetch(double Start, double Length) : ArrayStep;

    public sealed record Flush : ArrayStep;

    /// <summary>Async reads of consecutive two-page blocks from a page boundary: direct reads that read ahead.</summary>
    public sealed record Scan(double Start, int Blocks) : ArrayStep;
}

public static class ArrayStepGenerators
{
    public static Arbitrary<ArrayStep[]> Steps()
    {
        var fraction = Gen.Choose(0, 1000).Select(i => i / 1000.0);
        var small = Gen.Choose(0, 60).Select(i => i / 1000.0);
        var write = from start in fraction from length in Gen.OneOf(small, fraction) from seed in Gen.Choose(0, 9999) from async in Gen.Elements(true, false)
                    select (ArrayStep)new ArrayStep.Write(start, length, seed, async);
        var read = from start in fraction from length in Gen.OneOf(small, fraction) from async in Gen.Elements(true, false)
                   select (ArrayStep)new ArrayStep.Read(start, length, async);
        var set = from index in fraction from value in Gen.Choose(int.MinValue, int.MaxValue) select (ArrayStep)new ArrayStep.Set(index, value);
        var pin = from index in fraction from count in Gen.Choose(1, 300) select (ArrayStep)new ArrayStep.PinAndIncrement(index, count);
        var prefetch = from start in fraction from length in small select (ArrayStep)new ArrayStep.Prefetch(start, length);
        var scan = from start in fraction from blocks in Gen.Choose(1, 4) select (ArrayStep)new ArrayStep.Scan(start, blocks);
        var step = Gen.Frequency((4, write), (4, read), (2, set), (2, pin), (1, prefetch), (1, Gen.Constant((ArrayStep)new ArrayStep.Flush())), (2, scan));
        return Gen.ListOf(step).Select(l => l.ToArray()).ToArbitrary();
    }
}

/// <summary>
/// <see cref="RemoteArray{T}"/> under random reads, writes, element sets, pins, prefetches, flushes and
/// scans (direct reads that read ahead, see DirectReadAhead),
/// with a cache of four 4 KiB pages over an array of ten pages, so eviction and write-back happen all
/// the time, and reads of two or more uncached whole pages go straight to the donors (DirectTransferBytes)
/// next to dirty cached ones: it always equals a local array, and after a flush the remote bytes equal it too.
/// </summary>
public sealed class RemoteArrayModelProperties() : ClusterTest(donors: 2, donorBytes: 16L << 20)
{
    private const int Length = 10_000; // 40,000 bytes: ten 4 KiB pages, the last one short
    [Property(Arbitrary = [typeof(ArrayStepGenerators)], MaxTest = 40, EndSize = 40)]
    public void Remote_array_equals_a_local_array(ArrayStep[] steps) => Run(steps).GetAwaiter().GetResult();

    private async Task Run(ArrayStep[] steps)
    {
        await using var array = await Client.CreateArrayAsync<int>(Length, new RemoteArrayOptions
        {
            PageSize = 4096, CacheBytes = 4 * 4096, ReadAheadPages = 2, StripeCount = 2, StripeSize = 4096, DirectTransferBytes = 2 * 4096,
        });
        var model = new int[Length];
        foreach (var step in steps)
        {
            switch (step)
            {
                case ArrayStep.Write w:
                {
                    var (start, count) = Place(w.Start, w.Length);
                    var data = Enumerable.Range(0, count).Select(i => w.Seed * 31 + i).ToArray();
                    if (w.Async) await array.WriteAsync(start, data);
                    else array.Write(start, data);
                    data.CopyTo(model, start);
                    break;
                }

                case ArrayStep.Read r:
                {
                    var (start, count) = Place(r.Start, r.Length);
                    var back = new int[count];
                    if (r.Async) await array.ReadAsync(start, back);
                    else array.Read(start, back);
                    Assert.True(model.AsSpan(start, count).SequenceEqual(back), $"read [{start}, +{count}) differs from the model");
                    break;
                }

                case ArrayStep.Set s:
                {
                    int index = (int)Math.Min(Length - 1, s.Index * Length);
                    array[index] = s.Value;
                    model[index] = s.Value;
                    Assert.Equal(s.Value, array[index]);
                    break;
                }

                case ArrayStep.PinAndIncrement p:
                {
                    int index = (int)Math.Min(Length - 1, p.Index * Length);
                    int inPage = index % array.ElementsPerPage;
                    int count = Math.Min(p.Count, Math.Min(array.ElementsPerPage - inPage, Length - index));
                    using (var pinned = array.Pin(index, count))
                    {
                        Assert.True(model.AsSpan(index, count).SequenceEqual(pinned.Span), "pinned span differs from the model");
                        for (int i = 0; i < count; i++) pinned.Span[i]++;
                    }

                    for (int i = 0; i < count; i++) model[index + i]++;
                    break;
                }

                case ArrayStep.Prefetch f:
                {
                    var (start, count) = Place(f.Start, f.Length);
                    array.Prefetch(start, count);
                    break;
                }

                case ArrayStep.Scan scan:
                {
                    // Blocks of exactly DirectTransferBytes: each one after the first sends the next ahead,
                    // which a later scan may claim after other steps wrote or flushed in between.
                    int block = 2 * array.ElementsPerPage;
                    int first = (int)(scan.Start * (Length / array.ElementsPerPage)) * array.ElementsPerPage;
                    var back = new int[block];
                    for (int b = 0; b < scan.Blocks && first + (b + 1) * block <= Length; b++)
                    {
                        await array.ReadAsync(first + b * block, back);
                        Assert.True(model.AsSpan(first + b * block, block).SequenceEqual(back), $"scanned block at {first + b * block} differs from the model");
                    }

                    break;
                }

                case ArrayStep.Flush:
                    await array.FlushAsync();
                    await AssertRemoteEquals(array, model);
                    break;
            }
        }

        var all = new int[Length];
        await array.ReadAsync(0, all);
        Assert.True(model.AsSpan().SequenceEqual(all), "the whole array differs from the model");
        await array.FlushAsync();
        await AssertRemoteEquals(array, model);
    }

    /// <summary>Reads the remote bytes behind the array, bypassing its cache.</summary>
    private static async Task AssertRemoteEquals(RemoteArray<int> array, int[] model)
    {
        var bytes = new byte[Length * sizeof(int)];
        await array.Allocation.ReadAsync(0, bytes);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(bytes).SequenceEqual(model), "remote memory after a flush differs from the model");
    }

    private static (int Start, int Count) Place(double start, double length)
    {
        int s = (int)Math.Min(Length - 1, start * Length);
        int n = (int)Math.Max(1, Math.Min(Length - s, length * (Length - s)));
        return (s, n);
    }
}
