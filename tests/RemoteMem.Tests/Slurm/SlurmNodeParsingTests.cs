using RemoteMem.Cli.Slurm;

namespace RemoteMem.Tests.Slurm;

/// <summary>Reading sinfo's output: what `remotemem slurm scan` reports, and its errors on output it cannot read.</summary>
public sealed class SlurmNodeParsingTests
{
    [Fact]
    public void Allocatable_memory_is_configured_minus_allocated_and_a_node_in_several_partitions_is_listed_once()
    {
        const string output = """
            n1|idle|0/4/0/4|64000|0|61000|debug*|
            n2|mixed|3/1/0/4|64000|48000|12000|debug*|
            n2|mixed|3/1/0/4|64000|48000|12000|scavenger|
            n3|idle~|0/8/0/8|128000|0|N/A|scavenger|

            """;
        var nodes = SlurmNode.Parse(output);

        Assert.Equal(["n1", "n2", "n3"], nodes.Select(n => n.Name));
        var n2 = nodes[1];
        Assert.Equal(("mixed", 1, 4, 16000L, 12000L), (n2.State, n2.IdleCores, n2.TotalCores, n2.AllocatableMiB, n2.FreeMiB!.Value));
        Assert.Equal(["debug", "scavenger"], n2.Partitions);
        Assert.Null(nodes[2].FreeMiB);
        Assert.Equal(128000, nodes[2].AllocatableMiB);
    }

    [Theory]
    [InlineData("n1|idle|0/4/0/4|64000|")]
    [InlineData("n1|idle|0/4|64000|0|1|debug|")]
    [InlineData("n1|idle|0/4/0/4|lots|0|1|debug|")]
    public void Output_it_cannot_read_is_an_error_that_quotes_the_line(string line)
    {
        var ex = Assert.Throws<SlurmException>(() => SlurmNode.Parse(line));
        Assert.Contains(line.Split('|')[0], ex.Message);
    }
}
