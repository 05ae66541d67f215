using System.Buffers;
using Microsoft.Extensions.Logging;
using RemoteMem.Transport;
using RemoteMem.Wire;
using RemoteMem.Wire.Messages;

namespace RemoteMem.Services.Manager;

/// <summary>Serves the manager's control frames. Lease calls talk to donors, so they are answered asynchronously.</summary>
internal sealed class ManagerFrameHandler(ManagerCore core, ILogger logger) : IFrameHandler
{
    public void OnFrame(FrameConnection connection, in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        var bytes = payload.ToArray();
        switch (header.Opcode)
        {
            case Opcode.DonorRegister:
            {
                Require(connection, PeerRole.Donor, header.Opcode);
                var request = DonorRegister.Decode(bytes);
                Answer(connection, header, async () => (await core.RegisterDonorAsync(request)).Encode());
                break;
            }

            case Opcode.DonorHeartbeat:
                Require(connection, PeerRole.Donor, header.Opcode);
                core.Heartbeat(DonorHeartbeat.Decode(bytes));
                connection.Respond(header, ReadOnlySpan<byte>.Empty);
                break;
            case Opcode.DonorDeregister:
                Require(connection, PeerRole.Donor, header.Opcode);
                core.Deregister(DonorDeregister.Decode(bytes));
                connection.Respond(header, ReadOnlySpan<byte>.Empty);
                break;
            case Opcode.DonorDrain:
            {
                Require(connection, PeerRole.Donor, header.Opcode);
                var request = DonorDrain.Decode(bytes);
                Answer(connection, header, async () => (await core.DrainAsync(request)).Encode());
                break;
            }

            case Opcode.DrainDonor:
            {
                Require(connection, PeerRole.Client, header.Opcode);
                var request = DrainDonor.Decode(bytes);
                Answer(connection, header, async () =>
                {
                    await core.AskToLeaveAsync(request.DonorId);
                    return [];
                });
                break;
            }

            case Opcode.LeaseRequest:
            {
                Require(connection, PeerRole.Client, header.Opcode);
                var request = LeaseRequest.Decode(bytes);
                Answer(connection, header, async () => (await core.RequestLeaseAsync(request, connection, connection.Closed)).Encode());
                break;
            }

            case Opcode.LeaseRenew:
            {
                Require(connection, PeerRole.Client, header.Opcode);
                var holder = LeaseHolder.Decode(bytes);
                connection.Respond(header, core.Renew(holder.LeaseId, holder.HolderId, connection).Encode());
                break;
            }

            case Opcode.LeaseRelease:
            {
                Require(connection, PeerRole.Client, header.Opcode);
                var holder = LeaseHolder.Decode(bytes);
                Answer(connection, header, async () =>
                {
                    await core.ReleaseAsync(holder.LeaseId, holder.HolderId);
                    return [];
                });
                break;
            }

            case Opcode.LeasePublish:
                Require(connection, PeerRole.Client, header.Opcode);
                core.Publish(LeasePublish.Decode(bytes));
                connection.Respond(header, ReadOnlySpan<byte>.Empty);
                break;
            case Opcode.LeaseOpen:
                Require(connection, PeerRole.Client, header.Opcode);
                connection.Respond(header, core.Open(LeaseOpen.Decode(bytes), connection).Encode());
                break;

            case Opcode.ExecutorLease:
                Require(connection, PeerRole.Client, header.Opcode);
                connection.Respond(header, core.LeaseExecutor(ExecutorLeaseRequest.Decode(bytes)).Encode());
                break;
            case Opcode.ExecutorEnded:
                Require(connection, PeerRole.Donor, header.Opcode);
                core.ExecutorEnded(Wire.Messages.ExecutorEnded.Decode(bytes));
                connection.Respond(header, ReadOnlySpan<byte>.Empty);
                break;
            case Opcode.Status:
                if (bytes.Length != 0) throw new WireException(ErrorCode.MalformedFrame, "Status takes an empty payload.");
                connection.Respond(header, core.Status().Encode());
                break;
            default:
                throw new WireException(ErrorCode.UnknownOpcode, $"The manager does not serve opcode 0x{(byte)header.Opcode:x2}.");
        }
    }

    private static void Require(FrameConnection connection, PeerRole role, Opcode opcode)
    {
        if (connection.Role != role)
            throw new WireException(ErrorCode.NotPermitted, $"{opcode} is accepted only from a {role.ToString().ToLowerInvariant()}, and this connection authenticated as {connection.Role.ToString().ToLowerInvariant()}.");
    }

    private void Answer(FrameConnection connection, FrameHeader header, Func<Task<byte[]>> work)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                var payload = await work();
                await connection.RespondAsync(header, ErrorCode.Ok, payload);
            }
            catch (WireException ex)
            {
                await connection.RespondAsync(header, ex.Code, ErrorPayload.Encode(ex.Message));
            }
            catch (OperationCanceledException)
            {
                // The client went away; nobody to answer.
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Handling {Opcode} failed", header.Opcode);
                await connection.RespondAsync(header, ErrorCode.InternalError, ErrorPayload.Encode($"Internal error: {ex.GetType().Name}."));
            }
        });
    }
}
