using System.Buffers;

namespace RemoteMem.Wire.Messages;

/// <summary>Helpers shared by the control messages: encode to a fresh array, decode strictly.</summary>
public static class Message
{
    public static byte[] ToArray(Action<WireWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        write(new WireWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }
}
