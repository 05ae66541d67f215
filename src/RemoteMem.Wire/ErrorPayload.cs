using System.Buffers;

namespace RemoteMem.Wire;

/// <summary>The payload of an error response: a UTF-8 message (u16 length + bytes).</summary>
public static class ErrorPayload
{
    public static byte[] Encode(string message)
    {
        if (message.Length > 1024) message = message[..1024];
        var buffer = new ArrayBufferWriter<byte>(message.Length + 2);
        new WireWriter(buffer).WriteString(message);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a message; a peer that sent garbage gets a generic description instead of an exception.</summary>
    public static string Decode(ErrorCode code, ReadOnlySpan<byte> payload)
    {
        try
        {
            var reader = new WireReader(payload);
            return reader.ReadString();
        }
        catch (WireException)
        {
            return code.ToString();
        }
    }
}
