using System.Runtime.InteropServices;

namespace RemoteMem.Fabric.Internal.Native;

/// <summary>RmRdmaCompletion (= fi_cq_msg_entry on LP64): 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RmRdmaCompletion
{
    public nint Context;
    public ulong Flags;
    public ulong Length;
}

/// <summary>RmRdmaCompletionError: 160 bytes; <see cref="Message"/> is fi_cq_strerror's text, NUL-terminated.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct RmRdmaCompletionError
{
    public const int MessageLength = 128;

    public nint Context;
    public ulong Flags;
    public ulong Length;
    public int Error;
    public int ProviderError;
    public fixed byte Message[MessageLength];

    public readonly string MessageText()
    {
        fixed (byte* text = Message)
        {
            var span = new ReadOnlySpan<byte>(text, MessageLength);
            int end = span.IndexOf((byte)0);
            return System.Text.Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
        }
    }
}
