using RemoteMem.Wire;

namespace RemoteMem.Tests.Wire;

public sealed class ByteSizeTests
{
    [Theory]
    [InlineData("4096", 4096L)]
    [InlineData("64KiB", 64L << 10)]
    [InlineData("512 MiB", 512L << 20)]
    [InlineData("16GiB", 16L << 30)]
    [InlineData("16gib", 16L << 30)]
    [InlineData("1.5G", 3L << 29)]
    [InlineData("2GB", 2_000_000_000L)]
    [InlineData("1T", 1L << 40)]
    public void Parses_units(string text, long expected) => Assert.Equal(expected, ByteSize.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("-1GiB")]
    [InlineData("12XB")]
    public void Refuses_garbage_with_a_message_that_shows_the_form(string text)
    {
        var ex = Assert.Throws<FormatException>(() => ByteSize.Parse(text));
        Assert.Contains("16GiB", ex.Message);
    }

    [Fact]
    public void Formats_with_binary_units() => Assert.Equal("1.5 GiB", ByteSize.Format(3L << 29));
}
