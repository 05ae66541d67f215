using RemoteMem.Wire;

namespace RemoteMem.Tests.Wire;

public sealed class FrameHeaderTests
{
    [Fact]
    public void Round_trips_every_field_little_endian()
    {
        var header = new FrameHeader(0x01020304, 1, Opcode.ReadVector, 0x1122334455667788, ErrorCode.OutOfRange, FrameFlags.Response);
        var bytes = new byte[FrameHeader.Size];
        header.Write(bytes);
        Assert.Equal(new byte[] { 0x04, 0x03, 0x02, 0x01, 0x52, 0x4D, 1, 0x42, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 23, 0, 1, 0 }, bytes);
        Assert.True(FrameHeader.TryRead(bytes, out var read, out var error));
        Assert.Equal(ErrorCode.Ok, error);
        Assert.Equal(header, read);
    }

    [Fact]
    public void Rejects_bad_magic_short_input_and_negative_lengths()
    {
        var bytes = new byte[FrameHeader.Size];
        new FrameHeader(10, 1, Opcode.Read, 1, ErrorCode.Ok, FrameFlags.None).Write(bytes);
        Assert.False(FrameHeader.TryRead(bytes.AsSpan(0, 19), out _, out var shortError));
        Assert.Equal(ErrorCode.MalformedFrame, shortError);

        var badMagic = bytes.ToArray();
        badMagic[4] = 0;
        Assert.False(FrameHeader.TryRead(badMagic, out _, out var magicError));
        Assert.Equal(ErrorCode.MalformedFrame, magicError);

        var negative = bytes.ToArray();
        negative[3] = 0x80;
        Assert.False(FrameHeader.TryRead(negative, out _, out var lengthError));
        Assert.Equal(ErrorCode.FrameTooLarge, lengthError);
    }
}
