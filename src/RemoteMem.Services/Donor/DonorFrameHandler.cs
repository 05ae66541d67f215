using System.Buffers;
using RemoteMem.Services.Donor.Executors;
using RemoteMem.Services.Donor.Internal;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;
using Microsoft.Extensions.Logging;

namespace RemoteMem.Services.Donor;

/// <summary>
/// Serves a donor's frames: one-sided data requests (no user code runs), the manager's segment
/// control, and clients' function packages and executor starts. Data requests complete synchronously
/// on the connection's loop and allocate nothing.
/// </summary>
internal sealed class DonorFrameHandler(DonorCore core, ISegmentTransport peers, DonorExecutors executors, Func<(string Advertised, string Listen)> hosts, Func<bool> leave, ILogger logger) : IFrameHandler
{
    /// <summary>The last capability this connection verified: a client reuses one per segment, so the HMAC runs once per segment, not per request.</summary>
    private sealed class VerifiedCapability
    {
        public readonly byte[] Bytes = new byte[Capability.Size];
        public bool Valid;
    }

    public void OnFrame(FrameConnection connection, in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        switch (header.Opcode)
        {
            case Opcode.Read:
            case Opcode.ReadVector:
            case Opcode.Write:
            case Opcode.WriteVector:
                HandleData(connection, header, payload);
                break;
            case Opcode.SegmentAllocate:
            {
                RequireManager(connection, header.Opcode);
                var request = SegmentAllocate.Decode(payload.ToArray());
                connection.Respond(header, core.Allocate(request.LeaseId, request.Length).Encode());
                break;
            }

            case Opcode.SegmentFree:
            {
                RequireManager(connection, header.Opcode);
                core.Free(SegmentFree.Decode(payload.ToArray()).SegmentId);
                connection.Respond(header, ReadOnlySpan<byte>.Empty);
                break;
            }

            case Opcode.DonorLeave:
            {
                RequireManager(connection, header.Opcode);
                if (payload.Length != 0) throw new WireException(ErrorCode.MalformedFrame, "DonorLeave takes an empty payload.");
                // Answer first, then stop as on SIGTERM: drain (which talks to the manager), then leave.
                if (!leave()) throw new WireException(ErrorCode.NotPermitted, "This donor runs embedded in another program and cannot stop itself.");
                connection.Respond(header, ReadOnlySpan<byte>.Empty);
                break;
            }

            case Opcode.SegmentSpill:
            {
                RequireManager(connection, header.Opcode);
                SpillInBackground(connection, header, SegmentSpill.Decode(payload.ToArray()));
                break;
            }

            case Opcode.SegmentMigrate:
            {
                RequireManager(connection, header.Opcode);
                var request = SegmentMigrate.Decode(payload.ToArray());
                MigrateInBackground(connection, header, request);
                break;
            }

            case Opcode.PackageQuery:
            {
                RequireClient(connection, header.Opcode);
                var query = PackageQuery.Decode(payload.ToArray());
                connection.Respond(header, [executors.Packages.Has(query.Hash) ? (byte)1 : (byte)0]);
                break;
            }

            case Opcode.PackageUpload:
                RequireClient(connection, header.Opcode);
                executors.Upload(PackageUpload.Decode(payload.ToArray()));
                connection.Respond(header, ReadOnlySpan<byte>.Empty);
                break;
            case Opcode.ExecutorStart:
                RequireClient(connection, header.Opcode);
                StartExecutorInBackground(connection, header, ExecutorStart.Decode(payload.ToArray()));
                break;
            case Opcode.ExecutorStop:
                RequireClient(connection, header.Opcode);
                StopExecutorInBackground(connection, header, ExecutorStop.Decode(payload.ToArray()));
                break;
            default:
                throw new WireException(ErrorCode.UnknownOpcode, $"A donor does not serve opcode 0x{(byte)header.Opcode:x2}.");
        }
    }

    /// <summary>
    /// Writing a segment to a file takes a while: it runs off the connection's loop and answers when
    /// done. (A method of its own, like the next: a lambda in OnFrame that captured its parameters would
    /// allocate a closure on every data request.)
    /// </summary>
    private void SpillInBackground(FrameConnection connection, FrameHeader header, SegmentSpill request)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                await SegmentMigration.SpillAsync(core, request.SegmentId, request.Path, connection.Closed);
                DonorLog.SegmentMoved(logger, request.SegmentId, request.Path);
                await connection.RespondAsync(header, ErrorCode.Ok, ReadOnlyMemory<byte>.Empty);
            }
            catch (OperationCanceledException)
            {
                // The manager's connection closed: nobody to answer, and the segment took writes again.
            }
            catch (Exception ex)
            {
                DonorLog.MoveFailed(logger, request.SegmentId, request.Path, ex.Message);
                await connection.RespondAsync(header, ex is WireException wire ? wire.Code : ErrorCode.InternalError,
                    ErrorPayload.Encode($"Spilling segment {request.SegmentId} to {request.Path} failed: {ex.Message}"));
            }
        });
    }

    /// <summary>A copy takes a while: it runs off the connection's loop and answers when done.</summary>
    private void MigrateInBackground(FrameConnection connection, FrameHeader header, SegmentMigrate request)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                var targets = request.Targets.Select(t => new SegmentTarget(t.Endpoint, t.Capability)).ToList();
                await SegmentMigration.CopyAsync(core, peers, request.SegmentId, targets, request.BytesPerSecond, connection.Closed);
                DonorLog.SegmentMoved(logger, request.SegmentId, string.Join(", ", request.Targets.Select(t => t.Endpoint)));
                await connection.RespondAsync(header, ErrorCode.Ok, ReadOnlyMemory<byte>.Empty);
            }
            catch (OperationCanceledException)
            {
                // The manager's connection closed: nobody to answer, and the segment took writes again.
            }
            catch (Exception ex)
            {
                var code = ex is WireException wire ? wire.Code : ErrorCode.InternalError;
                var where = string.Join(", ", request.Targets.Select(t => t.Endpoint));
                DonorLog.MoveFailed(logger, request.SegmentId, where, ex.Message);
                await connection.RespondAsync(header, code, ErrorPayload.Encode($"Copying segment {request.SegmentId} to {where} failed: {ex.Message}"));
            }
        });
    }

    /// <summary>Spawning an executor takes a while (process start, package load): off the loop.</summary>
    private void StartExecutorInBackground(FrameConnection connection, FrameHeader header, ExecutorStart request) =>
        _ = AnswerAsync(connection, header, async () =>
        {
            var (advertised, listen) = hosts();
            return (await executors.StartAsync(request, advertised, listen)).Encode();
        });

    private void StopExecutorInBackground(FrameConnection connection, FrameHeader header, ExecutorStop request) =>
        _ = AnswerAsync(connection, header, async () =>
        {
            await executors.StopAsync(request.Ticket);
            return [];
        });

    private async Task AnswerAsync(FrameConnection connection, FrameHeader header, Func<Task<byte[]>> work)
    {
        await Task.Yield();
        try
        {
            await connection.RespondAsync(header, ErrorCode.Ok, await work());
        }
        catch (WireException ex)
        {
            await connection.RespondAsync(header, ex.Code, ErrorPayload.Encode(ex.Message));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogError(ex, "Handling {Opcode} failed", header.Opcode);
            await connection.RespondAsync(header, ErrorCode.InternalError, ErrorPayload.Encode($"Internal error handling {header.Opcode}: {ex.GetType().Name}: {ex.Message}"));
        }
    }

    private static void RequireClient(FrameConnection connection, Opcode opcode)
    {
        if (connection.Role != PeerRole.Client)
            throw new WireException(ErrorCode.NotPermitted, $"{opcode} is accepted only from a client.");
    }

    private static void RequireManager(FrameConnection connection, Opcode opcode)
    {
        if (connection.Role != PeerRole.Manager)
            throw new WireException(ErrorCode.NotPermitted, $"{opcode} is accepted only from the manager.");
    }

    /// <summary>
    /// A large write whose payload is still arriving: admitted as <see cref="HandleData"/> admits it, its
    /// bytes go from the socket straight into the pool, so the donor copies them once and the copy
    /// overlaps the transfer (received whole first, the copy into the pool came after the last byte, on
    /// every write's path). Anything refused goes the ordinary way, which answers it.
    /// </summary>
    public bool TryReceiveDirect(FrameConnection connection, in FrameHeader header, DirectPayload payload)
    {
        if (header.Opcode is not (Opcode.Write or Opcode.WriteVector)) return false;
        var buffered = payload.Buffered;
        Span<WireRange> ranges = stackalloc WireRange[WireLimits.MaxVectorRanges];
        var code = Admit(connection, header, buffered[..Math.Min(buffered.Length, DataRequest.MaxPrefixSize)], payload.Remaining, ranges, out int count, out int prefixLength, out var segment, out _);
        if (code != ErrorCode.Ok) return false;
        try
        {
            payload.Skip(prefixLength);
            foreach (var range in ranges[..count]) payload.ReceiveInto(core.Memory(segment!, range));
            connection.Respond(header, ReadOnlySpan<byte>.Empty);
        }
        finally
        {
            segment!.ExitWrite();
            segment.Exit();
        }

        return true;
    }

    // Decodes a data request's prefix and runs every check (the MAC once per capability per connection).
    // On Ok the caller holds the segment (and its write admission, for a write) until it exits.
    private ErrorCode Admit(FrameConnection connection, in FrameHeader header, ReadOnlySpan<byte> prefix, int payloadLength, Span<WireRange> ranges, out int count, out int prefixLength, out Segment? segment, out string? reason)
    {
        if (prefix.Length < Capability.Size)
            throw new WireException(ErrorCode.MalformedFrame, "Malformed data request: shorter than a capability.");
        count = DataRequest.ReadPrefix(prefix, payloadLength, header.Opcode, out var capability, ranges, out prefixLength);
        bool isWrite = header.Opcode is Opcode.Write or Opcode.WriteVector;
        var cache = connection.State as VerifiedCapability ?? (VerifiedCapability)(connection.State = new VerifiedCapability());
        var capabilityBytes = prefix[..Capability.Size];
        bool macVerified = cache.Valid && capabilityBytes.SequenceEqual(cache.Bytes);
        var code = core.Authorize(capability, macVerified, isWrite ? Rights.Write : Rights.Read, ranges[..count], out segment, out reason);
        if (code == ErrorCode.CapabilityInvalid) cache.Valid = false;
        if (code == ErrorCode.Ok && !macVerified)
        {
            capabilityBytes.CopyTo(cache.Bytes);
            cache.Valid = true;
        }

        return code;
    }

    private void HandleData(FrameConnection connection, in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        Span<byte> prefix = stackalloc byte[DataRequest.MaxPrefixSize];
        int available = (int)Math.Min(payload.Length, prefix.Length);
        payload.Slice(0, available).CopyTo(prefix);
        Span<WireRange> ranges = stackalloc WireRange[WireLimits.MaxVectorRanges];
        bool isWrite = header.Opcode is Opcode.Write or Opcode.WriteVector;
        var code = Admit(connection, header, prefix[..available], (int)payload.Length, ranges, out int count, out int prefixLength, out var segment, out var reason);
        ranges = ranges[..count];
        if (code != ErrorCode.Ok)
        {
            DonorLog.Refused(logger, header.Opcode, connection.RemoteEndPoint, code, reason);
            connection.RespondError(header, code, reason ?? code.ToString());
            return;
        }

        try
        {
            if (isWrite)
            {
                var data = payload.Slice(prefixLength);
                foreach (var range in ranges)
                {
                    data.Slice(0, range.Length).CopyTo(core.Memory(segment!, range));
                    data = data.Slice(range.Length);
                }

                connection.Respond(header, ReadOnlySpan<byte>.Empty);
            }
            else
            {
                long total = 0;
                foreach (var range in ranges) total += range.Length;
                if (total > connection.MaxFrameSize - FrameHeader.Size)
                {
                    connection.RespondError(header, ErrorCode.FrameTooLarge, $"Reading {total} bytes would exceed the agreed frame size of {connection.MaxFrameSize}.");
                    return;
                }

                connection.BeginResponse(header, (int)total);
                // Ranges that follow each other in the segment (a run of pages) go out as one piece:
                // one send of the pool's memory instead of one per range.
                var run = ranges[0];
                for (int i = 1; i < ranges.Length; i++)
                {
                    if (ranges[i].Offset == run.Offset + run.Length && (long)run.Length + ranges[i].Length <= int.MaxValue)
                    {
                        run = run with { Length = run.Length + ranges[i].Length };
                        continue;
                    }

                    connection.ContinueResponse(core.Memory(segment!, run));
                    run = ranges[i];
                }

                connection.ContinueResponse(core.Memory(segment!, run));
            }
        }
        finally
        {
            if (isWrite) segment!.ExitWrite();
            segment!.Exit();
        }
    }
}
