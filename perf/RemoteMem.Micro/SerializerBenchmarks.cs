using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using MemoryPack;
using RemoteMem.Samples.Functions;

namespace RemoteMem.Micro;

/// <summary>
/// Serialize + deserialize of a typed function's arguments: a (long, long) tuple and a Black-Scholes
/// <see cref="OptionBatch"/> of 1,000 options (five double arrays and a bool array), with MemoryPack
/// (what <c>ExecutorLease.InvokeAsync&lt;TIn, TOut&gt;</c> uses), System.Text.Json (source-generated)
/// and a hand-written BinaryPrimitives/MemoryMarshal encoding, the floor (the baseline of each group).
/// All three write into the same reused buffer, so the figures are the encoders' own cost; each
/// deserialize allocates the new object, as a call does.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class SerializerBenchmarks
{
    private const int Options = 1000;
    private readonly ArrayBufferWriter<byte> _buffer = new(64 << 10);
    private readonly byte[] _raw = new byte[64 << 10];
    private readonly Utf8JsonWriter _json = new(Stream.Null);
    private readonly (long, long) _pair = (40, 2);
    private OptionBatch _batch = null!;

    [GlobalSetup]
    public void Setup()
    {
        _batch = OptionBatch.Generate(Options, seed: 2024);
        // The encoded sizes, in the benchmark's log.
        Console.WriteLine($"// payload bytes: tuple MemoryPack {MemoryPackSerializer.Serialize(_pair).Length}, JSON {JsonSerializer.SerializeToUtf8Bytes(_pair, SerializerJsonContext.Default.ValueTupleInt64Int64).Length}, hand-written {EncodePair(_pair, _raw)}; "
            + $"{Options} options MemoryPack {MemoryPackSerializer.Serialize(_batch).Length}, JSON {JsonSerializer.SerializeToUtf8Bytes(_batch, SerializerJsonContext.Default.OptionBatch).Length}, hand-written {EncodeBatch(_batch, _raw)}");
        if (!SameBatch(_batch, MemoryPackRoundTrip(_batch)) || !SameBatch(_batch, JsonRoundTrip(_batch, SerializerJsonContext.Default.OptionBatch)) || !SameBatch(_batch, OptionsHandWritten()))
            throw new InvalidOperationException("A serializer did not round-trip the option batch.");
        if (TupleMemoryPack() != _pair || TupleJson() != _pair || TupleHandWritten() != _pair)
            throw new InvalidOperationException("A serializer did not round-trip the tuple.");
    }

    [Benchmark, BenchmarkCategory("(long, long)")]
    public (long, long) TupleMemoryPack() => MemoryPackRoundTrip(_pair);

    [Benchmark, BenchmarkCategory("(long, long)")]
    public (long, long) TupleJson() => JsonRoundTrip(_pair, SerializerJsonContext.Default.ValueTupleInt64Int64);

    [Benchmark(Baseline = true), BenchmarkCategory("(long, long)")]
    public (long, long) TupleHandWritten()
    {
        int length = EncodePair(_pair, _raw);
        var bytes = _raw.AsSpan(0, length);
        return (BinaryPrimitives.ReadInt64LittleEndian(bytes), BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]));
    }

    [Benchmark, BenchmarkCategory("OptionBatch 1000")]
    public OptionBatch OptionsMemoryPack() => MemoryPackRoundTrip(_batch);

    [Benchmark, BenchmarkCategory("OptionBatch 1000")]
    public OptionBatch OptionsJson() => JsonRoundTrip(_batch, SerializerJsonContext.Default.OptionBatch);

    [Benchmark(Baseline = true), BenchmarkCategory("OptionBatch 1000")]
    public OptionBatch OptionsHandWritten()
    {
        int length = EncodeBatch(_batch, _raw);
        ReadOnlySpan<byte> bytes = _raw.AsSpan(0, length);
        int count = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        var batch = new OptionBatch { Rounds = BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]) };
        int offset = 8;
        batch.Spot = DecodeDoubles(bytes, ref offset, count);
        batch.Strike = DecodeDoubles(bytes, ref offset, count);
        batch.Years = DecodeDoubles(bytes, ref offset, count);
        batch.Rate = DecodeDoubles(bytes, ref offset, count);
        batch.Volatility = DecodeDoubles(bytes, ref offset, count);
        batch.IsCall = GC.AllocateUninitializedArray<bool>(count);
        // Bytes other than 0 and 1 would make invalid bools: a real decoder would check them.
        bytes.Slice(offset, count).CopyTo(MemoryMarshal.AsBytes(batch.IsCall.AsSpan()));
        return batch;
    }

    private T MemoryPackRoundTrip<T>(T value)
    {
        _buffer.ResetWrittenCount();
        MemoryPackSerializer.Serialize(_buffer, value);
        return MemoryPackSerializer.Deserialize<T>(_buffer.WrittenSpan)!;
    }

    private T JsonRoundTrip<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        JsonSerializer.Serialize(_json, value, type);
        return JsonSerializer.Deserialize(_buffer.WrittenSpan, type)!;
    }

    private static double[] DecodeDoubles(ReadOnlySpan<byte> bytes, ref int offset, int count)
    {
        var values = GC.AllocateUninitializedArray<double>(count);
        bytes.Slice(offset, count * sizeof(double)).CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        offset += count * sizeof(double);
        return values;
    }

    private static int EncodePair((long A, long B) pair, Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination, pair.A);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], pair.B);
        return 16;
    }

    /// <summary>Count and rounds, then each array's raw little-endian bytes (this machine's order: the floor, not a portable format).</summary>
    private static int EncodeBatch(OptionBatch batch, Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, batch.Count);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], batch.Rounds);
        int offset = 8;
        foreach (var values in new[] { batch.Spot, batch.Strike, batch.Years, batch.Rate, batch.Volatility })
        {
            MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(destination[offset..]);
            offset += values.Length * sizeof(double);
        }

        MemoryMarshal.AsBytes(batch.IsCall.AsSpan()).CopyTo(destination[offset..]);
        return offset + batch.IsCall.Length;
    }

    private static bool SameBatch(OptionBatch a, OptionBatch b) =>
        a.Rounds == b.Rounds && a.Spot.SequenceEqual(b.Spot) && a.Strike.SequenceEqual(b.Strike) && a.Years.SequenceEqual(b.Years)
        && a.Rate.SequenceEqual(b.Rate) && a.Volatility.SequenceEqual(b.Volatility) && a.IsCall.SequenceEqual(b.IsCall);
}

/// <summary>System.Text.Json's generated serializers for the benchmarked types (fields included: a tuple's items are fields).</summary>
[JsonSourceGenerationOptions(IncludeFields = true)]
[JsonSerializable(typeof(OptionBatch))]
[JsonSerializable(typeof((long, long)))]
internal sealed partial class SerializerJsonContext : JsonSerializerContext;
