using System.Buffers;

namespace RemoteMem.Functions;

/// <summary>
/// A function that donors run for clients. An executor creates one instance per function and calls
/// it from several worker threads at once (one per leased core), so keep instance state thread-safe
/// or per call. Register it with <see cref="RemoteFunctionAttribute"/> or an <see cref="IFunctionModule"/>.
/// </summary>
public interface IRemoteFunction
{
    /// <summary>
    /// Runs one invocation: read <paramref name="input"/>, write the result to <paramref name="output"/>
    /// (as much as you like, up to the connection's frame size). An exception becomes the caller's
    /// error, carrying its type and message; honour <see cref="FunctionContext.CancellationToken"/>,
    /// which is cancelled at the invocation's deadline.
    /// </summary>
    void Invoke(ReadOnlySpan<byte> input, IBufferWriter<byte> output, FunctionContext context);
}
