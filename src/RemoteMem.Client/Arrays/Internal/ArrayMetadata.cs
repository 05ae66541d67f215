using System.Buffers;
using System.Runtime.CompilerServices;
using RemoteMem.Wire;

namespace RemoteMem.Client;

/// <summary>What a published array tells its openers: that it is an array, its element type and size, and its length.</summary>
internal static class ArrayMetadata
{
    private const byte Kind = 0xA1;

    public static byte[] Encode<T>(long length) where T : unmanaged
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new WireWriter(buffer);
        w.WriteByte(Kind);
        w.WriteString(typeof(T).FullName ?? typeof(T).Name);
        w.WriteInt32(Unsafe.SizeOf<T>());
        w.WriteInt64(length);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The published length, after checking the element size matches <typeparamref name="T"/>.</summary>
    public static long Decode<T>(string name, byte[] metadata) where T : unmanaged
    {
        try
        {
            var r = new WireReader(metadata);
            if (r.ReadByte() != Kind) throw new InvalidOperationException($"'{name}' is published, but not as a RemoteArray.");
            string type = r.ReadString();
            int size = r.ReadInt32();
            long length = r.ReadInt64();
            if (size != Unsafe.SizeOf<T>())
                throw new InvalidOperationException($"'{name}' holds {type} ({size} bytes per element); {typeof(T).Name} has {Unsafe.SizeOf<T>()}.");
            return length;
        }
        catch (WireException ex)
        {
            throw new InvalidOperationException($"'{name}' has unreadable array metadata.", ex);
        }
    }
}
