using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RemoteMem.Fabric;
using RemoteMem.Fabric.Internal;
using RemoteMem.Fabric.Internal.Native;

namespace RemoteMem.Tests.Fabric;

/// <summary>The probe says whether the fabric transport can run and why not; the native layouts match the header.</summary>
public sealed class FabricSupportTests
{
    [Theory]
    [InlineData(FabricTestEnvironment.Tcp)]
    [InlineData(FabricTestEnvironment.Shm)]
    public void The_providers_of_this_machine_are_supported(string provider)
    {
        FabricTestEnvironment.RequireLibrary();
        var probe = FabricSupport.Probe(provider);
        Assert.True(probe.IsSupported, probe.Message);
        Assert.Equal(FabricProbeStatus.Supported, probe.Status);
        Assert.NotNull(probe.LibfabricVersion);
        Assert.True(probe.LibfabricVersion >= new Version(1, 9), $"libfabric {probe.LibfabricVersion}");
        Assert.Equal(new Version(1, 15), probe.ApiVersion);
        Assert.EndsWith(NativeLibraryResolver.FileName, probe.LibraryPath);
    }

    [Fact]
    public void A_provider_that_does_not_exist_is_reported_with_the_ones_that_do()
    {
        FabricTestEnvironment.RequireLibrary();
        var probe = FabricSupport.Probe("no-such-provider");
        Assert.False(probe.IsSupported);
        Assert.Equal(FabricProbeStatus.ProviderNotFound, probe.Status);
        Assert.Contains("\"no-such-provider\"", probe.Message);
        Assert.Contains(FabricTestEnvironment.Tcp, probe.AvailableProviders);
        Assert.Contains(FabricTestEnvironment.Shm, probe.AvailableProviders);
        Assert.Contains("tcp;ofi_rxm, ", probe.Message);
        Assert.Contains("fi_info -l", probe.Message);
    }

    [Fact]
    public void A_missing_library_is_explained_with_how_to_build_it()
    {
        var probe = FabricSupport.LibraryMissing("tcp;ofi_rxm", "libremotemem_rdma.so: cannot open shared object file");
        Assert.Equal(FabricProbeStatus.LibraryNotFound, probe.Status);
        Assert.False(probe.IsSupported);
        Assert.Contains("apt-get install cmake gcc pkg-config libfabric-dev", probe.Message);
        Assert.Contains(NativeLibraryResolver.PathVariable, probe.Message);

        // The shim is there but its libfabric.so.1 is not: say that instead.
        probe = FabricSupport.LibraryMissing("tcp;ofi_rxm", "libfabric.so.1: cannot open shared object file");
        Assert.Contains("libfabric.so.1 was not", probe.Message);
    }

    [Fact]
    public void Opening_an_endpoint_for_a_missing_provider_throws_the_probes_explanation()
    {
        FabricTestEnvironment.RequireLibrary();
        var error = Assert.Throws<FabricException>(() => FabricEndpoint.Open(new FabricEndpointOptions { Provider = "no-such-provider" }));
        Assert.Contains("Providers with RMA on this machine", error.Message);
    }

    [Fact]
    public void A_low_locked_memory_limit_matters_only_for_pinning_providers()
    {
        const ulong tcpMode = 0, shmMode = RmRdmaConstants.MrVirtAddr;
        const ulong verbsMode = RmRdmaConstants.MrLocal | RmRdmaConstants.MrVirtAddr | RmRdmaConstants.MrAllocated | RmRdmaConstants.MrProvKey;
        Assert.True(LockedMemory.IsTooLow(8L << 20, verbsMode));
        Assert.False(LockedMemory.IsTooLow(8L << 20, tcpMode));
        Assert.False(LockedMemory.IsTooLow(8L << 20, shmMode));
        Assert.False(LockedMemory.IsTooLow(null, verbsMode)); // unlimited or root
        Assert.False(LockedMemory.IsTooLow(1L << 30, verbsMode));
        Assert.Equal("8 MiB", LockedMemory.Format(8L << 20));
        Assert.Equal("64 KiB", LockedMemory.Format(64L << 10));
    }

    [Fact]
    public void Completion_structs_match_the_header()
    {
        Assert.Equal(24, Marshal.SizeOf<RmRdmaCompletion>());
        Assert.Equal(24, Unsafe.SizeOf<RmRdmaCompletion>());
        Assert.Equal(8, (int)Marshal.OffsetOf<RmRdmaCompletion>(nameof(RmRdmaCompletion.Flags)));
        Assert.Equal(16, (int)Marshal.OffsetOf<RmRdmaCompletion>(nameof(RmRdmaCompletion.Length)));
        Assert.Equal(160, Unsafe.SizeOf<RmRdmaCompletionError>());
        Assert.Equal(24, (int)Marshal.OffsetOf<RmRdmaCompletionError>(nameof(RmRdmaCompletionError.Error)));
        Assert.Equal(28, (int)Marshal.OffsetOf<RmRdmaCompletionError>(nameof(RmRdmaCompletionError.ProviderError)));
        Assert.Equal(32, (int)Marshal.OffsetOf<RmRdmaCompletionError>(nameof(RmRdmaCompletionError.Message)));
    }

    [Fact]
    public void Context_pointers_map_back_to_their_slot_and_nothing_else()
    {
        using var block = ContextBlockHandle.Allocate(4);
        Assert.Equal(0, block.Base % RmRdmaConstants.ContextSize);
        for (int i = 0; i < 4; i++) Assert.Equal(i, block.IndexOf(block.ContextOf(i)));
        Assert.Equal(-1, block.IndexOf(0));
        Assert.Equal(-1, block.IndexOf(block.Base + 8));
        Assert.Equal(-1, block.IndexOf(block.Base - RmRdmaConstants.ContextSize));
        Assert.Equal(-1, block.IndexOf(block.ContextOf(4)));
    }
}
