using RemoteMem.Client;
using RemoteMem.Tests.Infrastructure;
using RemoteMem.Transport;
using RemoteMem.Wire;

namespace RemoteMem.Tests.Donor;

/// <summary>Donors refuse forged, expired, revoked, out-of-range and under-privileged requests with the documented codes.</summary>
public sealed class CapabilityEnforcementTests : IAsyncLifetime
{
    private InProcessCluster _cluster = null!;
    private RemoteMemClient _client = null!;
    private RemoteMem.Transport.Internal.DataConnection _raw = null!;
    private RemoteAllocation _allocation = null!;
    private SegmentTarget _target = null!;
    private readonly byte[] _buffer = GC.AllocateArray<byte>(4096, pinned: true);

    public async Task InitializeAsync()
    {
        _cluster = await InProcessCluster.StartAsync(donors: 1, donorBytes: 16L << 20);
        _client = await _cluster.ConnectAsync();
        _allocation = await _client.AllocateAsync(1 << 20);
        _target = _allocation.Targets[0];
        _raw = await RemoteMem.Transport.Internal.DataConnection.ConnectAsync(_target.Endpoint, _cluster.Secret, new TransportOptions());
    }

    public async Task DisposeAsync()
    {
        _raw.Dispose();
        await _allocation.DisposeAsync();
        await _client.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    private unsafe ErrorCode Send(Opcode opcode, Capability capability, long offset, int length)
    {
        fixed (byte* p = _buffer)
        {
            try
            {
                _raw.Execute(opcode, capability, [new IoOp(offset, (nint)p, length)]);
                return ErrorCode.Ok;
            }
            catch (WireException ex)
            {
                return ex.Code;
            }
        }
    }

    private Capability Resign(Func<Capability, Capability> change) => new CapabilityAuthority(_cluster.Secret).Sign(change(_target.Capability));

    [Fact]
    public void A_valid_capability_reads_and_writes()
    {
        Assert.Equal(ErrorCode.Ok, Send(Opcode.Write, _target.Capability, 0, 4096));
        Assert.Equal(ErrorCode.Ok, Send(Opcode.Read, _target.Capability, (1 << 20) - 4096, 4096));
    }

    [Fact]
    public void A_forged_capability_is_refused()
    {
        var forged = _target.Capability;
        forged.Length *= 2; // widen the range without the key
        Assert.Equal(ErrorCode.CapabilityInvalid, Send(Opcode.Read, forged, 0, 4096));
        var otherCluster = new CapabilityAuthority(ClusterSecret.Generate(out _)).Sign(_target.Capability);
        Assert.Equal(ErrorCode.CapabilityInvalid, Send(Opcode.Read, otherCluster, 0, 4096));
    }

    [Fact]
    public void An_expired_capability_is_refused() =>
        Assert.Equal(ErrorCode.CapabilityExpired, Send(Opcode.Read, Resign(c => c with { ExpiresUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1 }), 0, 4096));

    [Fact]
    public void Out_of_range_offsets_are_refused()
    {
        Assert.Equal(ErrorCode.OutOfRange, Send(Opcode.Read, _target.Capability, 1 << 20, 1));
        Assert.Equal(ErrorCode.OutOfRange, Send(Opcode.Write, _target.Capability, (1 << 20) - 100, 4096));
        Assert.Equal(ErrorCode.OutOfRange, Send(Opcode.Read, _target.Capability, long.MaxValue - 10, 4096));
    }

    [Fact]
    public void A_signed_capability_for_memory_outside_the_live_segment_is_refused()
    {
        // Even with a valid MAC (e.g. a stale grant), a range that is not the live segment is revoked.
        var moved = Resign(c => c with { PoolOffset = c.PoolOffset + (1 << 20) });
        Assert.Equal(ErrorCode.CapabilityRevoked, Send(Opcode.Read, moved, 0, 4096));
    }

    [Fact]
    public void Missing_rights_are_refused() =>
        Assert.Equal(ErrorCode.RightsDenied, Send(Opcode.Write, Resign(c => c with { Rights = Rights.Read }), 0, 4096));

    [Fact]
    public async Task A_released_lease_is_revoked()
    {
        var other = await _client.AllocateAsync(8192);
        var capability = other.Targets[0].Capability;
        await other.DisposeAsync();
        Assert.Equal(ErrorCode.CapabilityRevoked, Send(Opcode.Read, capability, 0, 4096));
    }

    [Fact]
    public async Task Segment_control_from_a_client_is_not_permitted()
    {
        await using var control = await FrameClient.ConnectAsync(_target.Endpoint, _cluster.Secret, PeerRole.Client, new TransportOptions());
        var ex = await Assert.ThrowsAsync<WireException>(() => control.CallAsync(Opcode.SegmentFree, new byte[8]));
        Assert.Equal(ErrorCode.NotPermitted, ex.Code);
    }

    [Fact]
    public async Task Client_side_range_checks_throw_before_any_traffic()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _allocation.ReadAsync(_allocation.Length, new byte[1]).AsTask());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _allocation.WriteAsync(-1, new byte[1]).AsTask());
        Assert.Throws<ArgumentOutOfRangeException>(() => _allocation.Read(_allocation.Length - 1, new byte[2]));
    }
}
