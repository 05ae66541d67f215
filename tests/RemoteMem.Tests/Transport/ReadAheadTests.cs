using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Transport;
using RemoteMem.Transport.Internal;
using RemoteMem.Wire;

namespace RemoteMem.Tests.Transport;

/// <summary>
/// Reads sent before their destination is known (<see cref="ReadAhead"/>) against a real donor: a claim
/// puts the bytes where it says, an abandoned or unclaimed one is discarded without holding up the
/// connection, and none is ever used twice.
/// </summary>
public sealed class ReadAheadTests
{
    [Fact]
    public async Task A_claimed_read_ahead_lands_at_its_destination_and_abandoned_or_late_ones_are_discarded()
    {
        await using var donor = await DonorSegment.StartAsync(donorBytes: 32L << 20, segmentBytes: 16L << 20);
        var (target, connection) = (donor.Target, donor.Connection);
        var data = await donor.WriteRandomAsync(4 << 20, 3);

        // A vector read ahead: its ops' Local fields are offsets from the destination the claim gives.
        using var destination = new NativeBuffer(1 << 20);
        IoOp[] ops = [new IoOp(1 << 20, 0, 256 << 10), new IoOp(3 << 20, 256 << 10, 100)];
        // (A claim is honoured if it comes within milliseconds; a loaded machine may miss that now and then.)
        var ahead = Begin(connection, target, ops);
        for (int attempt = 1; !await ahead.CompleteAsync(destination.Address); attempt++)
        {
            Assert.True(attempt < 5, "no claim made at once was honoured");
            ahead = Begin(connection, target, ops);
        }

        Assert.True(data.AsSpan(1 << 20, 256 << 10).SequenceEqual(destination.Span[..(256 << 10)]));
        Assert.True(data.AsSpan(3 << 20, 100).SequenceEqual(destination.Span.Slice(256 << 10, 100)));
        await Assert.ThrowsAsync<InvalidOperationException>(() => ahead.CompleteAsync(destination.Address).AsTask());

        // Abandoned: its answer is read and dropped, and the next request on the connection is answered.
        Begin(connection, target, [new IoOp(0, 0, 1 << 20)]).Abandon();
        using var plain = new NativeBuffer(1 << 20);
        await connection.ExecuteAsync(Opcode.Read, target.Capability, new[] { new IoOp(2 << 20, plain.Address, 1 << 20) });
        Assert.True(data.AsSpan(2 << 20, 1 << 20).SequenceEqual(plain.Span));

        // Not claimed for far longer than the receive thread holds it: dropped, so a request behind it is
        // answered meanwhile, and the late claim reports false without touching its destination.
        destination.Span.Clear();
        var late = Begin(connection, target, [new IoOp(0, 0, 1 << 20)]);
        await Task.Delay(300);
        await connection.ExecuteAsync(Opcode.Read, target.Capability, new[] { new IoOp(0, plain.Address, 4096) }).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(data.AsSpan(0, 4096).SequenceEqual(plain.Span[..4096]));
        Assert.False(await late.CompleteAsync(destination.Address));
        Assert.True(destination.Span.IndexOfAnyExcept((byte)0) < 0, "a dropped read-ahead wrote into its destination");
        Assert.True(connection.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_request_behind_an_unclaimed_read_ahead_does_not_wait_for_its_hold(bool sendWhileHeld)
    {
        // A hold far longer than the test may take: the request behind must not sit it out.
        var options = new TransportOptions { ReadAheadHold = TimeSpan.FromSeconds(30), RequestTimeout = TimeSpan.FromSeconds(60) };
        await using var donor = await DonorSegment.StartAsync(donorBytes: 32L << 20, segmentBytes: 4L << 20, options);
        var (target, connection) = (donor.Target, donor.Connection);
        var data = await donor.WriteRandomAsync(2 << 20, 5);

        using var destination = new NativeBuffer(1 << 20);
        using var plain = new NativeBuffer(4096);
        var ahead = Begin(connection, target, [new IoOp(0, 0, 1 << 20)]);
        // Sent at once, the request is in flight when the answer arrives; sent later, it meets the answer already held.
        if (sendWhileHeld) await Task.Delay(300);
        await connection.ExecuteAsync(Opcode.Read, target.Capability, new[] { new IoOp(1 << 20, plain.Address, 4096) }).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(data.AsSpan(1 << 20, 4096).SequenceEqual(plain.Span));

        // The read-ahead gave way: its claim is refused and its destination untouched.
        Assert.False(await ahead.CompleteAsync(destination.Address));
        Assert.True(destination.Span.IndexOfAnyExcept((byte)0) < 0, "a dropped read-ahead wrote into its destination");

        // With nothing behind it, a read-ahead is still held for its claim.
        var held = Begin(connection, target, [new IoOp(0, 0, 1 << 20)]);
        await Task.Delay(300);
        Assert.True(await held.CompleteAsync(destination.Address));
        Assert.True(data.AsSpan(0, 1 << 20).SequenceEqual(destination.Span));
    }

    [Fact]
    public async Task A_claim_of_an_answer_that_has_arrived_completes_at_once_and_frees_its_slot()
    {
        // One request slot: a slot the inline claim failed to free would stall the next request.
        var options = new TransportOptions { ReadAheadHold = TimeSpan.FromSeconds(30), RequestTimeout = TimeSpan.FromSeconds(60), MaxInFlight = 1 };
        await using var donor = await DonorSegment.StartAsync(donorBytes: 32L << 20, segmentBytes: 4L << 20, options);
        var (target, connection) = (donor.Target, donor.Connection);
        var data = await donor.WriteRandomAsync(4 << 20, 7);
        using var destination = new NativeBuffer(1 << 20);
        using var plain = new NativeBuffer(4096);

        int atOnce = 0;
        for (int i = 0; i < 8; i++)
        {
            // Its answer waits, held, in the socket; the claim then moves the bytes itself, without waiting
            // for the receive thread (a loaded machine may not have delivered all of it yet: then it waits).
            destination.Span.Clear();
            var held = Begin(connection, target, [new IoOp(i % 4 * (1L << 20), 0, 1 << 20)]);
            await Task.Delay(100);
            var claim = held.CompleteAsync(destination.Address);
            if (claim.IsCompletedSuccessfully) atOnce++;
            Assert.True(await claim.AsTask().WaitAsync(TimeSpan.FromSeconds(10)), $"claim {i} was refused");
            Assert.True(data.AsSpan(i % 4 << 20, 1 << 20).SequenceEqual(destination.Span), $"claim {i} received other bytes");

            // The stream is where it should be and the one slot is free again: the next request is answered.
            await connection.ExecuteAsync(Opcode.Read, target.Capability, new[] { new IoOp(3 << 20, plain.Address, 4096) }).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(data.AsSpan(3 << 20, 4096).SequenceEqual(plain.Span), $"the read after claim {i} received other bytes");
        }

        Assert.True(atOnce > 0, "no claim of an answer that had arrived completed at once");
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public async Task A_read_ahead_the_donor_refuses_reports_false_so_the_caller_reads_the_ordinary_way()
    {
        await using var donor = await DonorSegment.StartAsync(donorBytes: 32L << 20, segmentBytes: 1L << 20);
        var (target, connection) = (donor.Target, donor.Connection);
        using var destination = new NativeBuffer(4096);

        // Past the segment's end: the donor answers with an error, which the claim turns into false.
        var outside = Begin(connection, target, [new IoOp(2L << 20, 0, 4096)]);
        Assert.False(await outside.CompleteAsync(destination.Address));
        Assert.True(connection.IsConnected);
    }

    private static ReadAhead Begin(DataConnection connection, SegmentTarget target, IoOp[] ops)
    {
        var slot = connection.TryBeginReadAhead(target.Capability, ops);
        Assert.NotNull(slot);
        return new ReadAhead(connection, slot);
    }
}
