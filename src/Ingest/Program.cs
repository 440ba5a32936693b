using System.CommandLine;
using Ingest.Commands;

var root = new RootCommand("Ingest: Go runtime output (panics, fatal errors, goroutine dumps, gctrace) into searchable incident evidence.")
{
    AnalyzeCommand.Create(),
#if !INGEST_CLI
    // The native CLI build (-p:IngestCli=true) carries the offline analysis only; these need the JIT build.
    ServeCommand.Create(),
    ReplayCommand.Create(),
    HealthCommand.Create(),
    PostmortemCommand.Create(),
#endif
};
return root.Parse(args).Invoke();
