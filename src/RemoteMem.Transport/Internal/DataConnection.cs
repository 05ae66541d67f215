using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Transport.Internal;

/// <summary>
/// The data plane's connection from a client to one donor, shared by every caller on that donor.
/// Many requests are in flight; answers are matched by request id and may come in any order.
/// <para>
/// Why not <see cref="FrameClient"/>'s pipelines: each thread hand-off (send queue to send loop,
/// socket to pipe to receive loop) is a wake-up costing 5-25 µs on a small node, and each pipe is a
/// copy. Here a caller alone on the connection sends its own request (with others in flight, callers
/// queue theirs and one pool thread sends the queue in one batch), and one receive thread reads
/// answers, large read payloads straight into the caller's memory (the page cache), so a round trip
/// is two wake-ups and a read crosses one copy, the kernel's.
/// </para>
/// When the connection fails, every request on it fails with <see cref="ConnectionFailedException"/>
/// and <see cref="IsConnected"/> turns false; the transport then makes a new one.
/// </summary>
internal sealed class DataConnection : IDisposable, IThreadPoolWorkItem
{
    // Payload parts at least this large move between the socket and the caller's memory directly,
    // rather than through this connection's buffers (where small frames are batched into one syscall).
    private const int DirectBytes = 16 << 10;

    // Requests in flight (this one included) up to which a caller sends its own request.
    // (On 2 cores, 2 was no better at any depth in the perf suite and worse at depth 16: two callers each pay a syscall.)
    private const int DirectSendDepth = 1;

    private readonly FrameSocket _frames;
    private readonly Socket _socket;
    private readonly RequestSlots _slots;
    private readonly Closure _closure;
    private readonly TransportOptions _options;
    private readonly ILogger _logger;
    private readonly byte[] _send = new byte[64 << 10];
    private readonly ReceiveBuffer _received;
    private readonly Thread _receiver;
    private readonly Timer _deadlineTimer;
    private readonly long _timeoutTicks;
    private readonly int _readAheadHoldMs;
    private PendingRequest? _queued; // submitted, not yet sent: a lock-free stack, reversed when sent
    private int _sending;
    private int _sendScheduled;
    private int _outstanding;
    private int _aheadOutstanding; // of _outstanding, the read-aheads
    private PendingRequest? _holding; // the read-ahead whose answer the receive thread holds for its claim

    private DataConnection(FrameSocket frames, string endpoint, TransportOptions options, ILogger logger)
    {
        _closure = new Closure(endpoint);
        _frames = frames;
        (_socket, _received) = frames.Detach();
        Endpoint = endpoint;
        Version = frames.Version;
        MaxFrameSize = frames.MaxFrameSize;
        _options = options;
        _logger = logger;
        _slots = new RequestSlots(options.MaxInFlight);
        _timeoutTicks = (long)options.RequestTimeout.TotalMilliseconds;
        _readAheadHoldMs = (int)Math.Ceiling(options.ReadAheadHold.TotalMilliseconds);
        _receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = $"remotemem data {endpoint}" };
        _receiver.Start();
        var period = TimeSpan.FromMilliseconds(Math.Clamp(options.RequestTimeout.TotalMilliseconds / 4, 10, 1000));
        _deadlineTimer = new Timer(static state => ((DataConnection)state!).CheckDeadlines(), this, period, period);
    }

    public string Endpoint { get; }

    public byte Version { get; }

    public int MaxFrameSize { get; }

    /// <summary>Largest data payload of one request or answer (frame size less header and request prefix).</summary>
    public int MaxDataPerRequest => MaxFrameSize - FrameHeader.Size - DataRequest.MaxPrefixSize;

    public bool IsConnected => !_closure.IsClosed;

    /// <summary>Connects and authenticates as a client (the handshake of <see cref="FrameSocket"/>).</summary>
    public static async Task<DataConnection> ConnectAsync(string endpoint, ClusterSecret secret, TransportOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var frames = await FrameSocket.ConnectAsync(endpoint, secret, PeerRole.Client, options, cancellationToken).ConfigureAwait(false);
        return new DataConnection(frames, endpoint, options, logger ?? NullLogger.Instance);
    }

    /// <summary>
    /// Sends one data request (Read, Write, ReadVector or WriteVector) for the ranges in <paramref name="ops"/>,
    /// all in the segment that <paramref name="capability"/> names, and completes when it is answered.
    /// Allocation-free in steady state. <paramref name="cancellationToken"/> applies while waiting for a
    /// request slot; after that the request timeout bounds the wait.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ExecuteAsync(Opcode opcode, Capability capability, ReadOnlyMemory<IoOp> ops, CancellationToken cancellationToken = default)
    {
        ValidateData(opcode, ops.Span);
        _closure.ThrowIfClosed();
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        var slot = _slots.Take();
        try
        {
            FillData(slot, opcode, capability, ops.Span);
            Submit(slot, synchronous: false);
            await slot.AsValueTask().ConfigureAwait(false);
        }
        finally
        {
            _slots.Release(slot);
        }
    }

    /// <summary>The blocking form of <see cref="ExecuteAsync"/>, for <c>Span</c> callers.</summary>
    public void Execute(Opcode opcode, in Capability capability, ReadOnlySpan<IoOp> ops)
    {
        ValidateData(opcode, ops);
        _closure.ThrowIfClosed();
        if (!_slots.Wait(_options.RequestTimeout))
            throw new ConnectionFailedException(Endpoint, $"no request slot became free within {_options.RequestTimeout.TotalSeconds:0.#} s");
        var slot = _slots.Take();
        try
        {
            FillData(slot, opcode, capability, ops);
            Submit(slot, synchronous: true);
            slot.WaitSynchronously();
        }
        finally
        {
            _slots.Release(slot);
        }
    }

    /// <summary>
    /// Sends a read of <paramref name="ops"/> whose destination is not known yet (each op's Local is an
    /// offset from the base a claim supplies): see <see cref="ReadAhead"/>. Null when no request slot is
    /// free right now, the connection is closed, or the ops would not make a valid request (more ranges
    /// or bytes than one carries): a read-ahead is optional, so it never waits and never throws.
    /// </summary>
    public PendingRequest? TryBeginReadAhead(in Capability capability, ReadOnlySpan<IoOp> ops)
    {
        var opcode = ops.Length == 1 ? Opcode.Read : Opcode.ReadVector;
        if (DataError(opcode, ops) is not null || _closure.IsClosed || !_slots.Wait(TimeSpan.Zero)) return null;
        var slot = _slots.Take();
        FillData(slot, opcode, capability, ops);
        slot.ArmReadAhead();
        Interlocked.Increment(ref _aheadOutstanding);
        // Sent by the caller, whatever else is in flight: a scan keeps several blocks ahead, so the
        // connection is rarely idle, and a hand-off to a pool thread per block cost more on 2 cores
        // (each wakes a pool thread that then spins) than the small send itself.
        Submit(slot, synchronous: false, sendNow: true);
        return slot;
    }

    /// <summary>
    /// Claims a read-ahead for <paramref name="destinationBase"/> and waits for it; false when it was
    /// dropped or failed. When the receive thread is holding the answer, the caller moves what has arrived
    /// of it itself, and when that is all of it, completes without waiting: no wake-up of the receive
    /// thread before the copy and none of a pool thread after it (on 2 cores each costs more than the
    /// copy's share of a block).
    /// </summary>
    public ValueTask<bool> CompleteReadAheadAsync(PendingRequest slot, uint generation, nint destinationBase)
    {
        CheckReadAhead(slot, generation);
        int claim = slot.Claim(destinationBase);
        if (claim == PendingRequest.ClaimedInline && ReceiveHeld(slot)) return new ValueTask<bool>(true);
        return AwaitReadAheadAsync(slot, claimed: claim != PendingRequest.Dropped);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> AwaitReadAheadAsync(PendingRequest slot, bool claimed) =>
        await ReleaseWhenAnsweredAsync(slot).ConfigureAwait(false) && claimed;

    // The claimer's side of a held answer: the receive thread waits in Hold, so the stream is the caller's
    // until HandBack. Moves what has arrived, never waiting for more; true when that was all of it (the
    // receive thread then completes and frees the slot). A failing socket is left to the receive thread,
    // which meets the same error at the same place in the stream.
    private unsafe bool ReceiveHeld(PendingRequest slot)
    {
        long expected = slot.ExpectedResponseLength;
        int moved = 0;
        try
        {
            for (int i = 0; i < slot.OpCount; i++)
            {
                var destination = new Span<byte>((void*)(slot.AheadBase + slot.Ops[i].Local), slot.Ops[i].Length);
                int before = moved;
                ReceiveAvailable(destination, ref moved);
                if (moved - before < destination.Length) break;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            slot.HandBack(moved, moved == expected);
        }

        return moved == expected;
    }

    // Moves bytes that have already arrived into destination, buffered ones first, without blocking;
    // `moved` counts each step as it lands, so a failure midway still says where the stream stands.
    private void ReceiveAvailable(Span<byte> destination, ref int moved)
    {
        int buffered = _received.MoveTo(destination);
        destination = destination[buffered..];
        moved += buffered;
        while (!destination.IsEmpty)
        {
            int available = _socket.Available;
            if (available == 0) return;
            int n = _socket.Receive(destination[..Math.Min(available, destination.Length)], SocketFlags.None);
            if (n == 0) return;
            destination = destination[n..];
            moved += n;
        }
    }

    /// <summary>Gives up a read-ahead: its answer is discarded when it comes, and the slot freed.</summary>
    public void AbandonReadAhead(PendingRequest slot, uint generation)
    {
        CheckReadAhead(slot, generation);
        slot.Drop();
        _ = ReleaseWhenAnsweredAsync(slot);
    }

    // A read-ahead is completed or abandoned once; the slot's generation moves when it is released.
    private static void CheckReadAhead(PendingRequest slot, uint generation)
    {
        if (slot.Generation != generation || !slot.IsReadAhead || !slot.TrySettle())
            throw new InvalidOperationException("This read-ahead was already completed or abandoned.");
    }

    // Waits for a read-ahead's answer and frees its slot; false when it failed (a claimer then reads the
    // ordinary way, which retries or reports the failure as any read does).
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ReleaseWhenAnsweredAsync(PendingRequest slot)
    {
        try
        {
            await slot.AsValueTask().ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is ConnectionFailedException or WireException)
        {
            return false;
        }
        finally
        {
            _slots.Release(slot);
        }
    }

    private void ValidateData(Opcode opcode, ReadOnlySpan<IoOp> ops)
    {
        if (DataError(opcode, ops) is { } error) throw error;
    }

    // What is wrong with a data request, or null: thrown by callers that must send, a reason to skip for a read-ahead.
    private Exception? DataError(Opcode opcode, ReadOnlySpan<IoOp> ops)
    {
        if (opcode is not (Opcode.Read or Opcode.Write or Opcode.ReadVector or Opcode.WriteVector))
            return new ArgumentException($"{opcode} is not a data opcode.", nameof(opcode));
        if (ops.IsEmpty || ops.Length > WireLimits.MaxVectorRanges)
            return new ArgumentException($"A data request carries 1 to {WireLimits.MaxVectorRanges} ranges.", nameof(ops));
        if (opcode is Opcode.Read or Opcode.Write && ops.Length != 1)
            return new ArgumentException($"{opcode} carries exactly one range; use the vector form for more.", nameof(ops));
        long total = 0;
        foreach (var op in ops)
        {
            if (op.Length < 0 || op.RemoteOffset < 0) return new ArgumentOutOfRangeException(nameof(ops), "Negative offset or length.");
            total += op.Length;
        }

        return total > MaxDataPerRequest
            ? new ArgumentException($"A data request moves at most {MaxDataPerRequest} bytes; this one asked for {total}.", nameof(ops))
            : null;
    }

    private static void FillData(PendingRequest slot, Opcode opcode, in Capability capability, ReadOnlySpan<IoOp> ops)
    {
        Span<WireRange> ranges = stackalloc WireRange[ops.Length];
        for (int i = 0; i < ops.Length; i++)
        {
            ranges[i] = new WireRange((ulong)ops[i].RemoteOffset, (uint)ops[i].Length);
            slot.Ops[i] = ops[i];
        }

        slot.Opcode = opcode;
        slot.OpCount = ops.Length;
        slot.WritesOps = opcode is Opcode.Write or Opcode.WriteVector;
        slot.ReadsOps = !slot.WritesOps;
        slot.PrefixLength = DataRequest.WritePrefix(slot.Prefix, opcode, capability, ranges);
    }

    // ---- Sending: the caller writes its own request, and any queued behind it, in one batch. ----

    private void Submit(PendingRequest slot, bool synchronous, bool sendNow = false)
    {
        ulong id = ((ulong)slot.Generation << 32) | (uint)slot.Index;
        slot.Arm(id, synchronous, Environment.TickCount64 + _timeoutTicks);
        int depth = Interlocked.Increment(ref _outstanding);
        // An ordinary request's answer would queue behind a read-ahead answer held for its claim: end the
        // hold (the read-ahead is dropped; its owner reads the block itself). The receive thread checks
        // _outstanding after publishing _holding, so one of the two sees the other.
        if (!slot.IsReadAhead) Volatile.Read(ref _holding)?.Drop();
        // A closing connection fails slots only after it is marked closed, so a slot pushed here is never
        // one that a failed caller already released and reused.
        if (_closure.IsClosed)
        {
            slot.TryFail(_closure.Error);
            return;
        }

        PendingRequest? head;
        do
        {
            head = Volatile.Read(ref _queued);
            slot.NextQueued = head;
        }
        while (Interlocked.CompareExchange(ref _queued, slot, head) != head);
        // Alone on the connection, a caller sends its request itself: no hand-off, one syscall. With
        // others in flight, a pool thread sends whatever has queued by the time it runs, in one batch:
        // a syscall per request would cost more than the hand-off. A blocking caller always sends
        // itself: it may be a pool thread, and a pool full of blocked callers would never send.
        // So does a read-ahead's (see TryBeginReadAhead).
        if (synchronous || sendNow || depth <= DirectSendDepth) SendQueued();
        else if (Interlocked.Exchange(ref _sendScheduled, 1) == 0) ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        if (_closure.IsClosed) slot.TryFail(_closure.Error);
    }

    void IThreadPoolWorkItem.Execute()
    {
        Volatile.Write(ref _sendScheduled, 0);
        SendQueued();
    }

    private void SendQueued()
    {
        // Whoever takes _sending sends everything queued, then looks again: a request queued just
        // before _sending was released is sent by its own caller's loop or by this one.
        while (Volatile.Read(ref _queued) is not null && Interlocked.CompareExchange(ref _sending, 1, 0) == 0)
        {
            try
            {
                var batch = Interlocked.Exchange(ref _queued, null);
                PendingRequest? inOrder = null;
                while (batch is not null)
                {
                    var next = batch.NextQueued;
                    batch.NextQueued = inOrder;
                    inOrder = batch;
                    batch = next;
                }

                int used = 0;
                while (inOrder is not null)
                {
                    var next = inOrder.NextQueued;
                    inOrder.NextQueued = null;
                    if (inOrder.TryTransition(PendingRequest.Pending, PendingRequest.Sending)) // else it already failed
                        WriteRequest(inOrder, ref used);
                    inOrder = next;
                }

                SendAll(_send.AsSpan(0, used));
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                Close(new ConnectionFailedException(Endpoint, "sending failed: " + ex.Message, ex));
            }
            finally
            {
                Volatile.Write(ref _sending, 0);
            }
        }
    }

    // Lays the request out in the send buffer; a large write payload goes from the caller's memory to
    // the socket directly. Leaves the slot Pending once nothing reads the caller's memory any more.
    private unsafe void WriteRequest(PendingRequest slot, ref int used)
    {
        try
        {
            int head = FrameHeader.Size + slot.PrefixLength;
            if (_send.Length - used < head)
            {
                SendAll(_send.AsSpan(0, used));
                used = 0;
            }

            new FrameHeader(slot.PayloadLength, Version, slot.Opcode, slot.RequestId, ErrorCode.Ok, FrameFlags.None).Write(_send.AsSpan(used));
            slot.Prefix.AsSpan(0, slot.PrefixLength).CopyTo(_send.AsSpan(used + FrameHeader.Size));
            used += head;
            if (!slot.WritesOps) return;
            for (int i = 0; i < slot.OpCount; i++)
            {
                var data = new ReadOnlySpan<byte>((void*)slot.Ops[i].Local, slot.Ops[i].Length);
                if (data.Length <= _send.Length - used && data.Length < DirectBytes)
                {
                    data.CopyTo(_send.AsSpan(used));
                    used += data.Length;
                    continue;
                }

                SendAll(_send.AsSpan(0, used));
                used = 0;
                if (data.Length < DirectBytes)
                {
                    data.CopyTo(_send);
                    used = data.Length;
                }
                else
                {
                    SendAll(data);
                }
            }
        }
        finally
        {
            slot.TryTransition(PendingRequest.Sending, PendingRequest.Pending);
        }
    }

    private void SendAll(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty) data = data[_socket.Send(data, SocketFlags.None)..];
    }

    // ---- Receiving: one thread, answers into the callers' memory. ----

    private void ReceiveLoop()
    {
        Exception reason = new ConnectionFailedException(Endpoint, "the peer closed the connection");
        try
        {
            while (_received.Fill(_socket, FrameHeader.Size, FrameHeader.Size))
            {
                if (!FrameHeader.TryRead(_received.Span, out var header, out var error))
                    throw new WireException(error, $"{Endpoint} sent an invalid frame ({error}).");
                if (header.PayloadLength > MaxFrameSize - FrameHeader.Size)
                    throw new WireException(ErrorCode.FrameTooLarge, $"{Endpoint} sent a frame of {header.PayloadLength} bytes, over the agreed maximum.");
                _received.Consume(FrameHeader.Size);
                Deliver(header);
            }

            if (_received.Count > 0) throw ClosedMidFrame();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or WireException or ConnectionFailedException)
        {
            reason = ex is ConnectionFailedException ? ex : new ConnectionFailedException(Endpoint, ex.Message, ex);
        }

        Close(reason);
    }

    private void Deliver(in FrameHeader header)
    {
        if (header.IsEvent)
        {
            Skip(header.PayloadLength); // a donor sends clients no events today; later ones are ignored here
            return;
        }

        var slot = header.IsResponse ? _slots.Find(header.RequestId) : null;
        if (slot is null)
            throw new WireException(ErrorCode.MalformedFrame, $"{Endpoint} answered request {header.RequestId:x}, which is not pending.");
        // The answer can overtake the sender's last step (Sending -> Pending): wait that step out.
        var spinner = new SpinWait();
        while (slot.State == PendingRequest.Sending) spinner.SpinOnce();
        if (!slot.TryTransition(PendingRequest.Pending, PendingRequest.Delivering))
            throw new WireException(ErrorCode.MalformedFrame, $"{Endpoint} answered request {header.RequestId:x}, which is not pending.");
        Interlocked.Decrement(ref _outstanding);
        if (slot.IsReadAhead) Interlocked.Decrement(ref _aheadOutstanding);

        Exception? error;
        bool receivedByClaimer;
        try
        {
            error = ReceiveAnswer(header, slot, out receivedByClaimer);
        }
        catch (Exception ex)
        {
            // The stream broke in the middle of this answer: the slot is ours (Delivering), so fail it here.
            slot.CompleteDelivery(ex is ConnectionFailedException ? ex : new ConnectionFailedException(Endpoint, ex.Message, ex));
            throw;
        }

        slot.CompleteDelivery(error);
        // A read-ahead whose claimer received it all returned without waiting: nobody else frees its slot.
        if (receivedByClaimer) _slots.Release(slot);
    }

    // Reads the answer's payload into the slot's memory; returns the request's error, if any.
    private unsafe Exception? ReceiveAnswer(in FrameHeader header, PendingRequest slot, out bool receivedByClaimer)
    {
        receivedByClaimer = false;
        Exception? error = null;
        if (header.Status != ErrorCode.Ok)
        {
            if (header.PayloadLength > _received.Capacity)
                throw new WireException(ErrorCode.MalformedFrame, $"{Endpoint} sent an error answer of {header.PayloadLength} bytes.");
            if (!_received.Fill(_socket, header.PayloadLength, _received.Capacity)) throw ClosedMidFrame();
            error = new WireException(header.Status, ErrorPayload.Decode(header.Status, _received.Span[..header.PayloadLength].ToArray()));
            _received.Consume(header.PayloadLength);
        }
        else if (slot.ReadsOps && header.PayloadLength != slot.ExpectedResponseLength)
        {
            Skip(header.PayloadLength);
            error = new WireException(ErrorCode.MalformedFrame, $"{Endpoint} answered a read of {slot.ExpectedResponseLength} bytes with {header.PayloadLength}.");
        }
        else if (slot.ReadsOps)
        {
            nint destinationBase = 0;
            int done = 0;
            if (slot.IsReadAhead)
            {
                // Its bytes wait in the socket until the caller says where they go. The wait is short
                // (TransportOptions.ReadAheadHold), and none at all while an ordinary request is in flight,
                // whose answer would wait behind it. A caller that claims later reads the block again
                // the ordinary way. The claimer may have moved some or all of the bytes itself.
                switch (Hold(slot))
                {
                    case PendingRequest.Dropped:
                        Skip(header.PayloadLength);
                        return null;
                    case PendingRequest.ReceivedInline:
                        receivedByClaimer = true;
                        return null;
                }

                destinationBase = slot.AheadBase;
                done = slot.AheadReceived;
            }

            for (int i = 0; i < slot.OpCount; i++)
            {
                // Skips what the claimer already moved (whole ops first, then part of one).
                int length = slot.Ops[i].Length, skip = Math.Min(done, length);
                done -= skip;
                if (skip < length) ReceiveInto(new Span<byte>((void*)(destinationBase + slot.Ops[i].Local + skip), length - skip));
            }
        }
        else if (header.PayloadLength != 0)
        {
            Skip(header.PayloadLength);
            error = new WireException(ErrorCode.MalformedFrame, $"{Endpoint} answered a write with {header.PayloadLength} bytes.");
        }

        return error;
    }

    // Waits for a read-ahead's claim (see PendingRequest.AwaitClaim for what it returns). Submit drops
    // the held slot when an ordinary request arrives meanwhile; one already in flight (sent after the
    // read-ahead, so answered after it) drops it here. Other read-aheads behind it do not: they are as
    // speculative as this one.
    private int Hold(PendingRequest slot)
    {
        Interlocked.Exchange(ref _holding, slot);
        if (Volatile.Read(ref _outstanding) > Volatile.Read(ref _aheadOutstanding)) slot.Drop();
        int outcome = slot.AwaitClaim(_readAheadHoldMs);
        Volatile.Write(ref _holding, null);
        return outcome;
    }

    // Moves the next destination.Length bytes of the stream into destination: what is buffered first,
    // then large remainders straight from the socket, small ones through the buffer (with what follows).
    private void ReceiveInto(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            if (_received.Count > 0)
            {
                destination = destination[_received.MoveTo(destination)..];
            }
            else if (destination.Length >= DirectBytes)
            {
                int received = _socket.Receive(destination, SocketFlags.None);
                if (received == 0) throw ClosedMidFrame();
                destination = destination[received..];
            }
            else if (_received.ReceiveFrom(_socket) == 0)
            {
                throw ClosedMidFrame();
            }
        }
    }

    private void Skip(int count)
    {
        if (!_received.Skip(_socket, count)) throw ClosedMidFrame();
    }

    private ConnectionFailedException ClosedMidFrame() => new(Endpoint, "the peer closed the connection in the middle of a frame");

    // ---- Failure ----

    private void CheckDeadlines()
    {
        if (!_closure.IsClosed && _slots.CheckDeadlines(Endpoint, _options.RequestTimeout, _logger) is { } late) Close(late);
    }

    private void Close(Exception reason)
    {
        if (!_closure.TryClose(reason)) return;
        _deadlineTimer.Dispose();
        _frames.Dispose();
        // The receive thread may be delivering into a slot (Delivering): that one is left to it.
        _slots.FailAll(reason);
    }

    public void Dispose()
    {
        Close(new ConnectionFailedException(Endpoint, "the connection was closed by this process"));
        if (Thread.CurrentThread != _receiver) _receiver.Join(TimeSpan.FromSeconds(5));
    }
}
