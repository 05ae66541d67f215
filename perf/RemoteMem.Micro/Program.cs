// Micro-benchmarks of the hot paths: `dotnet run -c Release --project perf/RemoteMem.Micro -- --filter '*'`
// (add `--job short` for a quick look). Results land in BenchmarkDotNet.Artifacts/.
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(RemoteMem.Micro.WireBenchmarks).Assembly).Run(args);
