using RemoteMem.Fabric.Internal.Native;

namespace RemoteMem.Fabric.Internal;

/// <summary>Every exception the fabric code throws is built here, so their texts and types stay consistent.</summary>
internal static class FabricErrors
{
    /// <summary>errno values (= FI_E* on Linux) that mean the connection to the peer is gone for good.</summary>
    public static bool IsBrokenConnection(int error) => Math.Abs(error) switch
    {
        32 => true,  // EPIPE
        100 => true, // ENETDOWN
        101 => true, // ENETUNREACH
        102 => true, // ENETRESET
        103 => true, // ECONNABORTED
        104 => true, // ECONNRESET
        107 => true, // ENOTCONN: what tcp;ofi_rxm reports ("Broken pipe") after the target dropped us
        108 => true, // ESHUTDOWN
        111 => true, // ECONNREFUSED
        112 => true, // EHOSTDOWN
        113 => true, // EHOSTUNREACH
        _ => false,
    };

    /// <summary>
    /// tcp-based providers report operations cut off by a lost connection as err 125 (ECANCELED) with the
    /// socket's errno as prov_errno (107 ENOTCONN when the donor went away). Other providers' prov_errno
    /// values are their own codes (verbs work-completion statuses, cxi return codes), so only tcp's count.
    /// </summary>
    public static bool IsBrokenSocket(string provider, int providerError) =>
        provider.StartsWith("tcp", StringComparison.Ordinal) && IsBrokenConnection(providerError);

    /// <summary>A shim call returned a non-zero status.</summary>
    public static FabricException FromStatus(int status, string operation)
    {
        string text = $"{operation} failed: {RmRdma.Describe(status)} (status {status})";
        return status switch
        {
            RmRdmaConstants.Memlock => new FabricException(
                $"{text}. Raise the locked-memory limit of this user (ulimit -l unlimited; memlock in /etc/security/limits.conf; under Slurm also PropagateResourceLimits).",
                status),
            _ when IsBrokenConnection(status) => new FabricConnectionBrokenException($"{text}; rebuild the endpoint to reconnect.", status),
            _ => new FabricException(text, status),
        };
    }

    /// <summary>A posted operation completed with an error entry.</summary>
    public static FabricException FromCompletion(in RmRdmaCompletionError entry, FabricOperation operation, string provider)
    {
        string text = $"{operation.Describe()} over {provider} failed: {entry.MessageText()} (err {entry.Error}, prov_errno {entry.ProviderError})";
        return IsBrokenConnection(entry.Error) || IsBrokenSocket(provider, entry.ProviderError)
            ? new FabricConnectionBrokenException($"{text}; the connection to the peer is broken, rebuild the endpoint.", 0, entry.Error, entry.ProviderError)
            : new FabricException(text, 0, entry.Error, entry.ProviderError);
    }

    public static TimeoutException Timeout(FabricOperation operation, string provider, TimeSpan timeout, string? unattributed)
    {
        string text = $"{operation.Describe()} over {provider} did not complete within {timeout.TotalSeconds:0.###} s. " +
            "Its context stays quarantined until the provider completes it or the endpoint is rebuilt or disposed; " +
            "the local buffer of a read may still be written until then.";
        if (unattributed is not null) text += $" Meanwhile the provider reported an error it could not attribute to an operation: {unattributed}.";
        return new TimeoutException(text);
    }

    /// <summary>The provider kept refusing the post (-FI_EAGAIN) until the deadline; nothing was sent.</summary>
    public static TimeoutException NotAccepted(FabricOperation operation, string provider, TimeSpan timeout) => new(
        $"{operation.Describe()}: {provider} refused to accept it (-FI_EAGAIN) for {timeout.TotalSeconds:0.###} s, so nothing was sent. " +
        "Either its queues stayed full, or (tcp) the connection to the peer could not be made: the peer may be gone.");

    public static TimeoutException NoSlot(string provider, int capacity, int quarantined, TimeSpan timeout) => new(
        $"No operation slot of the {provider} endpoint became free within {timeout.TotalSeconds:0.###} s ({capacity} slots, {quarantined} quarantined after timeouts). " +
        (quarantined > 0 ? "Rebuild the endpoint to reclaim quarantined slots." : "Raise MaxInFlight or wait for operations before posting more."));

    public static FabricConnectionBrokenException Rebuilt(FabricOperation operation) =>
        new($"{operation.Describe()} was in flight while its endpoint was rebuilt; retry it.");

    public static ObjectDisposedException Disposed() => new(nameof(FabricEndpoint), "The fabric endpoint was disposed.");

    public static ObjectDisposedException DisposedInFlight(FabricOperation operation) =>
        new(nameof(FabricEndpoint), $"The fabric endpoint was disposed while {operation.Describe()} was in flight.");
}
