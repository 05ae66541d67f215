using RemoteMem.Fabric;
using RemoteMem.Fabric.Internal;

namespace RemoteMem.Tests.Fabric;

/// <summary>
/// Two endpoints in this process, used as the transport will use them: a donor that registers a patterned
/// native region (remote access) and publishes name, key and base, and a client that registers its own
/// buffer and adds the donor as a peer. The donor never learns the client's name, as in a real cluster.
/// <see cref="Model"/> is what the donor's memory should hold.
/// </summary>
internal sealed class FabricPair : IDisposable
{
    public const long DonorBytes = 16L << 20;
    public const long ClientBytes = 16L << 20;
    public const int Seed = 7;

    private FabricPair(string provider, FabricEndpointOptions donorOptions, FabricEndpointOptions clientOptions)
    {
        Provider = provider;
        DonorMemory = new NativeRegion(DonorBytes);
        DonorMemory.Fill(Seed);
        Model = DonorMemory.Span(0, (int)DonorBytes).ToArray();
        ClientMemory = new NativeRegion(ClientBytes);
        Donor = FabricEndpoint.Open(donorOptions);
        DonorRegistration = Donor.RegisterMemory(DonorMemory.Address, DonorBytes, remoteAccess: true);
        Client = FabricEndpoint.Open(clientOptions);
        ClientRegistration = Client.RegisterMemory(ClientMemory.Address, ClientBytes, remoteAccess: false);
        DonorPeer = Client.AddPeer(Donor.GetName());
    }

    public string Provider { get; }

    public NativeRegion DonorMemory { get; }

    public NativeRegion ClientMemory { get; }

    public byte[] Model { get; }

    public FabricEndpoint Donor { get; }

    public FabricRegistration DonorRegistration { get; }

    public FabricEndpoint Client { get; }

    public FabricRegistration ClientRegistration { get; }

    public FabricPeer DonorPeer { get; }

    public static FabricPair Open(string provider, TimeSpan? timeout = null, FabricProgressMode clientMode = FabricProgressMode.Blocking, int maxInFlight = 256)
    {
        FabricTestEnvironment.RequireLibrary();
        return new FabricPair(provider, FabricTestEnvironment.Options(provider, timeout), FabricTestEnvironment.Options(provider, timeout, clientMode, maxInFlight));
    }

    public ValueTask ReadAsync(long remoteOffset, long localOffset, long length) =>
        Client.ReadAsync(DonorPeer, ClientMemory.Address + (nint)localOffset, ClientRegistration.Descriptor, DonorRegistration.RemoteAddressOf(remoteOffset), DonorRegistration.Key, length);

    public ValueTask WriteAsync(long remoteOffset, long localOffset, long length, bool deliveryComplete = true) =>
        Client.WriteAsync(DonorPeer, ClientMemory.Address + (nint)localOffset, ClientRegistration.Descriptor, DonorRegistration.RemoteAddressOf(remoteOffset), DonorRegistration.Key, length, deliveryComplete);

    public void Read(long remoteOffset, long localOffset, long length) =>
        Client.Read(DonorPeer, ClientMemory.Address + (nint)localOffset, ClientRegistration.Descriptor, DonorRegistration.RemoteAddressOf(remoteOffset), DonorRegistration.Key, length);

    public void Write(long remoteOffset, long localOffset, long length, bool deliveryComplete = true) =>
        Client.Write(DonorPeer, ClientMemory.Address + (nint)localOffset, ClientRegistration.Descriptor, DonorRegistration.RemoteAddressOf(remoteOffset), DonorRegistration.Key, length, deliveryComplete);

    /// <summary>Asserts that <paramref name="length"/> bytes of the client's buffer equal the model at <paramref name="remoteOffset"/>.</summary>
    public void AssertLocalEqualsModel(long localOffset, long remoteOffset, int length)
    {
        var actual = ClientMemory.Span(localOffset, length);
        var expected = Model.AsSpan((int)remoteOffset, length);
        if (actual.SequenceEqual(expected)) return;
        int first = 0;
        while (actual[first] == expected[first]) first++;
        Assert.Fail($"{Provider}: {length} B read from remote offset {remoteOffset} into local {localOffset} differ first at byte {first}: expected {expected[first]}, got {actual[first]}");
    }

    /// <summary>Asserts that the donor's whole memory equals the model (after writes).</summary>
    public void AssertDonorEqualsModel()
    {
        var actual = DonorMemory.Span(0, (int)DonorBytes);
        if (actual.SequenceEqual(Model)) return;
        int first = actual.CommonPrefixLength(Model);
        Assert.Fail($"{Provider}: donor memory differs from the model first at offset {first}: expected {Model[first]}, got {actual[first]}");
    }

    public void Dispose()
    {
        Client.Dispose();
        Donor.Dispose();
        ClientMemory.Dispose();
        DonorMemory.Dispose();
    }
}
