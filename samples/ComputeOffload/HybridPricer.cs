using System.Diagnostics;
using RemoteMem.Client.Functions;
using RemoteMem.Samples.Functions;

namespace RemoteMem.Samples.ComputeOffload;

/// <summary>How a batch was priced: the prices, who priced how many chunks, and the wall time.</summary>
public sealed record HybridResult(double[] Prices, int LocalChunks, int RemoteChunks, TimeSpan Elapsed);

/// <summary>
/// The paper's hybrid offload: one local thread and remote executor cores price one batch together.
/// The batch is cut into chunks that both sides take from one counter, so the faster side simply takes
/// more; nothing is split up front on a guess of relative speed.
/// </summary>
public static class HybridPricer
{
    /// <summary>The function name in the sample package.</summary>
    public const string Function = "black-scholes";

    /// <summary>One local thread alone, chunk by chunk (the baseline).</summary>
    public static HybridResult PriceLocally(OptionBatch batch, int chunk)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunk);
        var prices = new double[batch.Count];
        var clock = Stopwatch.StartNew();
        int chunks = 0;
        for (int start = 0; start < batch.Count; start += chunk, chunks++)
            BlackScholes.Price(batch, start, prices.AsSpan(start, Math.Min(chunk, batch.Count - start)));
        return new HybridResult(prices, chunks, 0, clock.Elapsed);
    }

    /// <summary>
    /// One local thread and <paramref name="remote"/> together. Each remote core gets
    /// <paramref name="callsPerCore"/> calls in flight, so the next chunk is already at the executor while
    /// the current one computes.
    /// </summary>
    public static async Task<HybridResult> PriceAsync(OptionBatch batch, int chunk, ExecutorLease remote, int callsPerCore = 2, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunk);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(callsPerCore);
        var prices = new double[batch.Count];
        int chunkCount = (batch.Count + chunk - 1) / chunk;
        int next = -1, localChunks = 0, remoteChunks = 0;
        bool TryTake(out int start, out int count)
        {
            int index = Interlocked.Increment(ref next);
            start = index * chunk;
            count = index < chunkCount ? Math.Min(chunk, batch.Count - start) : 0;
            return index < chunkCount;
        }

        var clock = Stopwatch.StartNew();
        // A dedicated thread: the local core computes and never waits on the network.
        var local = Task.Factory.StartNew(() =>
        {
            while (!cancellationToken.IsCancellationRequested && TryTake(out int start, out int count))
            {
                BlackScholes.Price(batch, start, prices.AsSpan(start, count));
                localChunks++;
            }
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        var lanes = Enumerable.Range(0, remote.Cores * callsPerCore).Select(_ => Task.Run(async () =>
        {
            while (TryTake(out int start, out int count))
            {
                var part = await remote.InvokeAsync<OptionBatch, double[]>(Function, batch.Slice(start, count), cancellationToken: cancellationToken);
                if (part.Length != count)
                    throw new InvalidDataException($"The executor returned {part.Length} prices for a chunk of {count} options.");
                part.CopyTo(prices.AsSpan(start));
                Interlocked.Increment(ref remoteChunks);
            }
        }, cancellationToken));
        await Task.WhenAll([local, .. lanes]);
        return new HybridResult(prices, localChunks, remoteChunks, clock.Elapsed);
    }
}
