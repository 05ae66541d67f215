using System.Runtime.CompilerServices;
using RemoteMem.Tests.Infrastructure;

namespace RemoteMem.Tests.Client;

/// <summary>
/// A transfer into an ordinary (movable) array holds the array's address from the first attempt to
/// completion: it is held by <c>fixed</c> while posting and pinned before that scope ends when the
/// transfer is still in flight. Compacting collections during transfers must not move the bytes elsewhere.
/// </summary>
public sealed class TransferPinningTests() : ClusterTest(donors: 1, donorBytes: 8L << 20)
{
    [Fact]
    public async Task Reads_and_writes_of_movable_arrays_survive_compacting_collections_in_flight()
    {
        const int Size = 16 << 10;
        await using var allocation = await Client.AllocateAsync(1L << 20);
        for (int round = 0; round < 200; round++)
        {
            long offset = round % 60 * (long)Size;
            var expected = TestPattern.Make(offset, Size, round);
            var (source, junk) = MovableCopy(expected);
            var write = allocation.WriteAsync(offset, source);
            junk.Clear(); // the space before the buffer is free: a compacting collection slides the buffer down
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            await write;

            var (destination, _) = MovableCopy(new byte[Size]);
            var read = allocation.ReadAsync(offset, destination);
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            await read;
            Assert.True(expected.AsSpan().SequenceEqual(destination), $"round {round}: the bytes read differ from the bytes written");
        }
    }

    // A copy allocated behind some garbage, so that collecting the garbage moves it.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (byte[] Buffer, List<byte[]> Junk) MovableCopy(byte[] data)
    {
        var junk = new List<byte[]>();
        for (int i = 0; i < 16; i++) junk.Add(new byte[1024]);
        return ((byte[])data.Clone(), junk);
    }
}
