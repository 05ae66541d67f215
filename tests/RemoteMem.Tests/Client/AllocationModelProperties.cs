using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;

namespace RemoteMem.Tests.Client;

/// <summary>One step of a random workload against the cluster and against a plain in-memory model.</summary>
public abstract record Step
{
    public sealed record Allocate(int Bytes, int StripeCount, int StripeShift) : Step;

    /// <summary>Slot picks a live allocation (modulo the count); fractions place the range inside it.</summary>
    public sealed record Write(int Slot, double Start, double Length, int Seed) : Step;

    public sealed record Read(int Slot, double Start, double Length) : Step;

    public sealed record Release(int Slot) : Step;
}

public static class StepGenerators
{
    public static Arbitrary<Step[]> Steps()
    {
        var fraction = Gen.Choose(0, 1000).Select(i => i / 1000.0);
        var allocate = from bytes in Gen.Choose(1, 3 << 20)
                       from stripes in Gen.Choose(0, 2)
                       from shift in Gen.Choose(12, 17)
                       select (Step)new Step.Allocate(bytes, stripes, shift);
        var write = from slot in Gen.Choose(0, 7)
                    from start in fraction
                    from length in fraction
                    from seed in Gen.Choose(0, 1000)
                    select (Step)new Step.Write(slot, start, length, seed);
        var read = from slot in Gen.Choose(0, 7)
                   from start in fraction
                   from length in fraction
                   select (Step)new Step.Read(slot, start, length);
        var release = Gen.Choose(0, 7).Select(i => (Step)new Step.Release(i));
        var step = Gen.Frequency((2, allocate), (4, write), (4, read), (1, release));
        return Gen.ListOf(step).Select(l => l.ToArray()).ToArbitrary();
    }
}

/// <summary>
/// Model-based property: random sequences of allocate / write / read / release with random sizes,
/// offsets and stripes, run against a real manager and two real donors over loopback TCP. After every
/// step the remote contents equal the model's byte arrays.
/// </summary>
public sealed class AllocationModelProperties() : ClusterTest(donors: 2, donorBytes: 64L << 20)
{
    [Property(Arbitrary = [typeof(StepGenerators)], MaxTest = 40, EndSize = 30)]
    public void Remote_contents_always_equal_the_model(Step[] steps) => Run(steps).GetAwaiter().GetResult();

    private async Task Run(Step[] steps)
    {
        var live = new List<(RemoteAllocation Remote, byte[] Model)>();
        try
        {
            foreach (var step in steps)
            {
                switch (step)
                {
                    case Step.Allocate a:
                    {
                        var remote = await Client.AllocateAsync(a.Bytes, new AllocationOptions { StripeCount = a.StripeCount, StripeSize = 1 << a.StripeShift });
                        Assert.Equal(a.Bytes, remote.Length);
                        Assert.True(remote.DonorCount <= Math.Max(1, a.StripeCount == 0 ? 2 : a.StripeCount));
                        live.Add((remote, new byte[a.Bytes]));
                        break;
                    }

                    case Step.Write w when live.Count > 0:
                    {
                        var (remote, model) = live[w.Slot % live.Count];
                        var (start, length) = Place(model.Length, w.Start, w.Length);
                        var data = TestPattern.Make(start, length, w.Seed);
                        if (w.Seed % 2 == 0) await remote.WriteAsync(start, data);
                        else remote.Write(start, data);
                        data.CopyTo(model, start);
                        break;
                    }

                    case Step.Read r when live.Count > 0:
                    {
                        var (remote, model) = live[r.Slot % live.Count];
                        var (start, length) = Place(model.Length, r.Start, r.Length);
                        var buffer = new byte[length];
                        if (length % 2 == 0) await remote.ReadAsync(start, buffer);
                        else remote.Read(start, buffer);
                        Assert.True(model.AsSpan((int)start, length).SequenceEqual(buffer), $"read [{start}, +{length}) of lease {remote.LeaseId} differs from the model");
                        break;
                    }

                    case Step.Release rel when live.Count > 0:
                    {
                        int index = rel.Slot % live.Count;
                        await live[index].Remote.DisposeAsync();
                        live.RemoveAt(index);
                        break;
                    }
                }
            }

            // Finally every live allocation must equal its model in full.
            foreach (var (remote, model) in live)
            {
                var all = new byte[model.Length];
                await remote.ReadAsync(0, all);
                Assert.True(model.AsSpan().SequenceEqual(all), $"lease {remote.LeaseId} differs from its model");
            }
        }
        finally
        {
            foreach (var (remote, _) in live) await remote.DisposeAsync();
        }
    }

    private static (long Start, int Length) Place(int size, double start, double length)
    {
        long s = Math.Min(size - 1, (long)(start * size));
        int n = (int)Math.Max(0, Math.Min(size - s, length * (size - s)));
        return (s, n);
    }
}
