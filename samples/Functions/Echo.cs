using System.Buffers;
using RemoteMem.Functions;

namespace RemoteMem.Samples.Functions;

/// <summary>"echo": returns its input. Does no work, so timing it measures the invocation path itself.</summary>
[RemoteFunction("echo")]
public sealed class Echo : IRemoteFunction
{
    public void Invoke(ReadOnlySpan<byte> input, IBufferWriter<byte> output, FunctionContext context) => output.Write(input);
}
