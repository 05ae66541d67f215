using RemoteMem.Client;

namespace RemoteMem.Tests.Infrastructure;

/// <summary>
/// An application under fire: random writes and reads of an allocation, every read checked against a
/// local model of what was written, until stopped. Any exception or wrong byte ends it with that error.
/// </summary>
public sealed class VerifyingWorkload
{
    private long _operations;

    /// <summary>Completes when stopped; rethrows the first error or mismatch.</summary>
    public Task Running { get; private set; } = Task.CompletedTask;

    public long Operations => Interlocked.Read(ref _operations);

    /// <summary>Starts on <paramref name="allocation"/>, whose current contents <paramref name="model"/> must hold (it is updated as writes go out).</summary>
    public static VerifyingWorkload Start(RemoteAllocation allocation, byte[] model, int seed, int maxLength, CancellationToken stop)
    {
        var workload = new VerifyingWorkload();
        workload.Running = Task.Run(async () =>
        {
            var random = new Random(seed);
            var buffer = new byte[maxLength];
            while (!stop.IsCancellationRequested)
            {
                int length = random.Next(1, buffer.Length);
                long offset = random.NextInt64(0, model.Length - length);
                if (random.Next(2) == 0)
                {
                    random.NextBytes(buffer.AsSpan(0, length));
                    await allocation.WriteAsync(offset, buffer.AsMemory(0, length));
                    buffer.AsSpan(0, length).CopyTo(model.AsSpan((int)offset));
                }
                else
                {
                    await allocation.ReadAsync(offset, buffer.AsMemory(0, length));
                    if (!buffer.AsSpan(0, length).SequenceEqual(model.AsSpan((int)offset, length)))
                        throw new InvalidDataException($"seed {seed}: read [{offset}, +{length}) differs from what was written");
                }

                Interlocked.Increment(ref workload._operations);
            }
        });
        return workload;
    }
}
