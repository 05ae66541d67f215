using System.Buffers;
using System.Runtime.InteropServices;
using MemoryPack;
using RemoteMem.Functions;

namespace RemoteMem.TestFunctions;

/// <summary>Returns its input.</summary>
[RemoteFunction("echo")]
public sealed class Echo : IRemoteFunction
{
    public void Invoke(ReadOnlySpan<byte> input, IBufferWriter<byte> output, FunctionContext context) => output.Write(input);
}

/// <summary>Typed: adds two numbers.</summary>
[RemoteFunction("add")]
public sealed class Add : TypedFunction<(long A, long B), long>
{
    public override long Invoke((long A, long B) input, FunctionContext context) => input.A + input.B;
}

/// <summary>Throws with the input as the message.</summary>
[RemoteFunction("throw")]
public sealed class Throw : IRemoteFunction
{
    public void Invoke(ReadOnlySpan<byte> input, IBufferWriter<byte> output, FunctionContext context) =>
        throw new InvalidOperationException(System.Text.Encoding.UTF8.GetString(input));
}

/// <summary>Waits for as many milliseconds as its 4-byte input says, honouring the deadline.</summary>
[RemoteFunction("sleep")]
public sealed class Sleep : IRemoteFunction
{
    public void Invoke(ReadOnlySpan<byte> input, IBufferWriter<byte> output, FunctionContext context)
    {
        int ms = BitConverter.ToInt32(input);
        context.CancellationToken.WaitHandle.WaitOne(ms);
        context.CancellationToken.ThrowIfCancellationRequested();
        output.Write("slept"u8);
    }
}

/// <summary>Allocates and touches as many MiB as its 4-byte input says; returns how many it held at once.</summary>
[RemoteFunction("allocate")]
public sealed class Allocate : IRemoteFunction
{
    public void Invoke(ReadOnlySpan<byte> input, IBufferWriter<byte> output, FunctionContext context)
    {
        var blocks = new List<byte[]>();
        for (int i = 0; i < BitConverter.ToInt32(input); i++)
        {
            var block = new byte[1 << 20];
            Array.Fill(block, (byte)i);
            blocks.Add(block);
        }

        output.Write(BitConverter.GetBytes(blocks.Count));
    }
}

/// <summary>Ends the executor process, as a crashing function would.</summary>
[RemoteFunction("crash")]
public sealed class Crash : IRemoteFunction
{
    public void Invoke(ReadOnlySpan<byte> input, IBufferWriter<byte> output, FunctionContext context) =>
        Environment.FailFast("test function asked to crash");
}

/// <summary>Reports how the lease looks from inside: cores and near-data segment count.</summary>
[RemoteFunction("describe")]
public sealed class Describe : TypedFunction<int, int[]>
{
    public override int[] Invoke(int input, FunctionContext context) => [context.Cores, context.Segments.Count];
}

/// <summary>Near-data: copies out [offset, offset + length) of the client's allocation from the segments on this donor (bytes held elsewhere stay zero), plus a mask of which were held here.</summary>
[RemoteFunction("near-read")]
public sealed class NearRead : TypedFunction<(long Offset, int Length), (byte[] Bytes, bool[] Held)>
{
    public override (byte[] Bytes, bool[] Held) Invoke((long Offset, int Length) input, FunctionContext context)
    {
        var bytes = new byte[input.Length];
        var held = new bool[input.Length];
        foreach (var segment in context.Segments)
        {
            foreach (var (offset, stripe) in segment.Stripes())
            {
                long from = Math.Max(offset, input.Offset), to = Math.Min(offset + stripe.Length, input.Offset + input.Length);
                if (from >= to) continue;
                stripe.Span.Slice((int)(from - offset), (int)(to - from)).CopyTo(bytes.AsSpan((int)(from - input.Offset)));
                held.AsSpan((int)(from - input.Offset), (int)(to - from)).Fill(true);
            }
        }

        return (bytes, held);
    }
}

/// <summary>Near-data: writes a byte value over every byte of the client's allocation held on this donor; returns how many.</summary>
[RemoteFunction("near-fill")]
public sealed class NearFill : TypedFunction<byte, long>
{
    public override long Invoke(byte input, FunctionContext context)
    {
        long filled = 0;
        foreach (var segment in context.Segments)
        {
            foreach (var (_, stripe) in segment.Stripes())
            {
                stripe.Span.Fill(input);
                filled += stripe.Length;
            }
        }

        return filled;
    }
}

/// <summary>Near-data: the sum of the doubles this donor holds (a partial sum of a RemoteArray&lt;double&gt;).</summary>
[RemoteFunction("near-sum")]
public sealed class NearSum : TypedFunction<int, double>
{
    public override double Invoke(int input, FunctionContext context)
    {
        double sum = 0;
        foreach (var segment in context.Segments)
            foreach (var (_, stripe) in segment.Stripes())
                foreach (var value in MemoryMarshal.Cast<byte, double>(stripe.Span)) sum += value;
        return sum;
    }
}

/// <summary>Uses a private dependency the package carries; returns where its type was loaded from.</summary>
[RemoteFunction("greet")]
public sealed class Greet : TypedFunction<string, (string Greeting, string LoadContext)>
{
    public override (string Greeting, string LoadContext) Invoke(string input, FunctionContext context) =>
        (Dependency.Greeting.For(input), System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(typeof(Dependency.Greeting).Assembly)?.Name ?? "");
}

/// <summary>Explicit registration: a delegate function.</summary>
public sealed class Module : IFunctionModule
{
    public void Register(FunctionRegistry registry) =>
        registry.Add("length", (input, output, _) => output.Write(BitConverter.GetBytes(input.Length)));
}
