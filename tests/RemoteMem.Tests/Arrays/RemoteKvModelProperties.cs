using System.Buffers;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;

namespace RemoteMem.Tests.Arrays;

public abstract record KvStep
{
    public sealed record Put(int Key, int Length, int Seed) : KvStep;

    public sealed record Get(int Key) : KvStep;

    public sealed record Delete(int Key) : KvStep;

    public sealed record Compact : KvStep;

    public sealed record MultiGet(int[] Keys) : KvStep;
}

public static class KvStepGenerators
{
    public static Arbitrary<KvStep[]> Steps()
    {
        var key = Gen.Choose(0, 40);
        var length = Gen.Frequency((1, Gen.Constant(0)), (6, Gen.Choose(1, 300)), (2, Gen.Choose(300, 9000)));
        var put = from k in key from l in length from s in Gen.Choose(0, 1000) select (KvStep)new KvStep.Put(k, l, s);
        var get = key.Select(k => (KvStep)new KvStep.Get(k));
        var delete = key.Select(k => (KvStep)new KvStep.Delete(k));
        var multi = Gen.ArrayOf(key).Select(keys => (KvStep)new KvStep.MultiGet(keys));
        var step = Gen.Frequency((6, put), (5, get), (2, delete), (1, Gen.Constant((KvStep)new KvStep.Compact())), (1, multi));
        return Gen.ListOf(step).Select(l => l.ToArray()).ToArbitrary();
    }
}

/// <summary>
/// <see cref="RemoteKv"/> under random put / get / delete / multi-get / compaction equals a
/// <see cref="Dictionary{TKey, TValue}"/>. The index uses 3 hash bits, so most keys collide and the
/// full-key check is exercised; the log is small, so automatic compaction happens too.
/// </summary>
public sealed class RemoteKvModelProperties() : ClusterTest(donors: 2, donorBytes: 32L << 20)
{
    private static byte[] KeyOf(int k) => Encoding.UTF8.GetBytes($"key-{k}");

    [Property(Arbitrary = [typeof(KvStepGenerators)], MaxTest = 30, EndSize = 60)]
    public void Store_equals_a_dictionary(KvStep[] steps) => Run(steps).GetAwaiter().GetResult();

    private async Task Run(KvStep[] steps)
    {
        await using var kv = await Client.CreateKvAsync(new RemoteKvOptions
        {
            Capacity = 256 << 10, CacheBytes = 4 * 4096, PageSize = 4096, MaxValueBytes = 9000, HashBits = 3, CompactionThreshold = 0.4,
        });
        var model = new Dictionary<int, byte[]>();
        foreach (var step in steps)
        {
            switch (step)
            {
                case KvStep.Put p:
                {
                    var value = TestPattern.Make(p.Key * 7919L, p.Length, p.Seed);
                    if (p.Seed % 2 == 0) await kv.PutAsync(KeyOf(p.Key), value);
                    else kv.Put(KeyOf(p.Key), value);
                    model[p.Key] = value;
                    break;
                }

                case KvStep.Get g:
                {
                    var buffer = new ArrayBufferWriter<byte>();
                    bool found = await kv.TryGetAsync(KeyOf(g.Key), buffer);
                    Assert.Equal(model.ContainsKey(g.Key), found);
                    if (found) Assert.True(model[g.Key].AsSpan().SequenceEqual(buffer.WrittenSpan), $"value of key {g.Key} differs");
                    Assert.Equal(found, kv.ContainsKey(KeyOf(g.Key)));
                    break;
                }

                case KvStep.Delete d:
                    Assert.Equal(model.Remove(d.Key), await kv.DeleteAsync(KeyOf(d.Key)));
                    break;
                case KvStep.Compact:
                    await kv.CompactAsync();
                    Assert.Equal(0, kv.GarbageBytes);
                    break;
                case KvStep.MultiGet m:
                {
                    var values = await kv.GetManyAsync(m.Keys.Select(k => (ReadOnlyMemory<byte>)KeyOf(k)).ToList());
                    for (int i = 0; i < m.Keys.Length; i++)
                    {
                        if (model.TryGetValue(m.Keys[i], out var expected)) Assert.True(expected.AsSpan().SequenceEqual(values[i]), "multi-get value differs");
                        else Assert.Null(values[i]);
                    }

                    break;
                }
            }

            Assert.Equal(model.Count, kv.Count);
        }

        var keys = new List<string>();
        await foreach (var key in kv.KeysAsync()) keys.Add(Encoding.UTF8.GetString(key));
        Assert.Equal(model.Keys.Select(k => $"key-{k}").Order(), keys.Order());
    }
}
