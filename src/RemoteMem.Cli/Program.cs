using System.CommandLine;
using RemoteMem.Cli.Commands;
using RemoteMem.Cli.Commands.Slurm;

var root = new RootCommand("RemoteMem: lend the idle memory of HPC nodes to applications that need it.");
root.Subcommands.Add(ManagerCommand.Create());
root.Subcommands.Add(DonorCommand.Create());
root.Subcommands.Add(StatusCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(SecretCommand.Create());
root.Subcommands.Add(SlurmCommand.Create());
root.Subcommands.Add(ExecutorCommand.Create());
// The services stop gracefully on SIGTERM/SIGINT through the generic host; System.CommandLine's own
// termination handling would end the process first, so it is turned off.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
