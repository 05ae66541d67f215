namespace RemoteMem.Fabric;

/// <summary>
/// A libfabric call or a one-sided operation failed. <see cref="Status"/> is the shim's status (a negative
/// libfabric/errno code, or RMRDMA_E_* at -1000 and below) for a failed call; <see cref="Error"/> and
/// <see cref="ProviderError"/> come from the completion error entry of a failed operation.
/// </summary>
public class FabricException : IOException
{
    public FabricException(string message, int status = 0, int error = 0, int providerError = 0, Exception? inner = null)
        : base(message, inner)
    {
        Status = status;
        Error = error;
        ProviderError = providerError;
    }

    /// <summary>The failed call's status; 0 when the failure came as a completion error.</summary>
    public int Status { get; }

    /// <summary>The completion error's positive FI_E*/errno value (e.g. 125 ECANCELED); 0 for a failed call.</summary>
    public int Error { get; }

    /// <summary>The provider-specific code of a completion error.</summary>
    public int ProviderError { get; }
}
