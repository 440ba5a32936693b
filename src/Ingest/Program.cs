using System.CommandLine;
using Ingest.Commands;

var root = new RootCommand("Ingest: Go runtime output (panics, fatal errors, goroutine dumps, gctrace) into searchable incident evidence.")
{
    AnalyzeCommand.Create(),
    ServeCommand.Create(),
    ReplayCommand.Create(),
    HealthCommand.Create(),
    PostmortemCommand.Create(),
};
return root.Parse(args).Invoke();
