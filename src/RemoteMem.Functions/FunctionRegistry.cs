using System.Buffers;

namespace RemoteMem.Functions;

/// <summary>The functions of one package by name, as an executor loads them.</summary>
public sealed class FunctionRegistry
{
    private readonly Dictionary<string, IRemoteFunction> _functions = new(StringComparer.Ordinal);

    /// <summary>Registers <paramref name="function"/> as <paramref name="name"/>; a name may be registered once.</summary>
    public FunctionRegistry Add(string name, IRemoteFunction function)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(function);
        if (System.Text.Encoding.UTF8.GetByteCount(name) > 1024)
            throw new ArgumentException($"Function name '{name[..32]}...' is longer than 1024 bytes.", nameof(name));
        if (!_functions.TryAdd(name, function))
            throw new InvalidOperationException($"Function '{name}' is registered twice ({_functions[name].GetType().FullName} and {function.GetType().FullName}).");
        return this;
    }

    /// <summary>Registers a delegate as a function.</summary>
    public FunctionRegistry Add(string name, FunctionBody body) => Add(name, new DelegateFunction(body));

    public IReadOnlyCollection<string> Names => _functions.Keys;

    public bool TryGet(string name, out IRemoteFunction function) => _functions.TryGetValue(name, out function!);

    private sealed class DelegateFunction(FunctionBody body) : IRemoteFunction
    {
        public void Invoke(ReadOnlySpan<byte> input, IBufferWriter<byte> output, FunctionContext context) => body(input, output, context);
    }
}

/// <summary>A function written as a delegate (see <see cref="FunctionRegistry.Add(string, FunctionBody)"/>).</summary>
public delegate void FunctionBody(ReadOnlySpan<byte> input, IBufferWriter<byte> output, FunctionContext context);
