using System.Buffers;
using MemoryPack;

namespace RemoteMem.Functions;

/// <summary>
/// A function with typed input and output, serialized with MemoryPack (see docs/functions.md for why):
/// primitives, strings, arrays and <c>[MemoryPackable]</c> types. Clients call it with
/// <c>InvokeAsync&lt;TIn, TOut&gt;</c>.
/// </summary>
public abstract class TypedFunction<TIn, TOut> : IRemoteFunction
{
    public abstract TOut Invoke(TIn input, FunctionContext context);

    void IRemoteFunction.Invoke(ReadOnlySpan<byte> input, IBufferWriter<byte> output, FunctionContext context)
    {
        var value = MemoryPackSerializer.Deserialize<TIn>(input)!;
        MemoryPackSerializer.Serialize(output, Invoke(value, context));
    }
}
