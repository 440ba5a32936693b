using System.Diagnostics;
using System.Text;
using Ingest.GoRuntime.Tests.Support;

namespace Ingest.GoRuntime.Tests.Cli;

/// <summary>Runs only where Native AOT can link (clang); .ci/run installs it.</summary>
public sealed class NativeCliFactAttribute : FactAttribute
{
    public NativeCliFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/clang")) Skip = "Native AOT needs clang (apt-get install clang zlib1g-dev; .ci/run does it)";
    }
}

/// <summary>
/// The native CLI (`dotnet publish src/Ingest -p:IngestCli=true`, Native AOT, what docs/performance.md measures)
/// is published for real and run out of process beside the JIT executable on every corpus file: same output,
/// same exit codes. It catches what only the native build can get wrong: trimmed members, options bound by the
/// generated binder, an instruction set the machine lacks.
/// </summary>
public sealed class NativeCliTests
{
    [NativeCliFact]
    public void The_native_cli_prints_what_the_jit_build_prints()
    {
        string repo = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repo, "Ingest.sln"))) repo = Path.GetDirectoryName(repo) ?? throw new InvalidOperationException("no Ingest.sln above the tests");
        string work = Directory.CreateTempSubdirectory("ingest-native-").FullName;
        try
        {
            string native = Path.Combine(work, "cli");
            var publish = Run("dotnet", ["publish", Path.Combine(repo, "src", "Ingest", "Ingest.csproj"), "-c", "Release", "-r", "linux-x64", "-p:IngestCli=true", "-o", native], repo);
            Assert.True(publish.Code == 0, "publish failed:\n" + publish.Out + publish.Err);

            string[] files = [.. Directory.GetFiles(Corpus.Root, "*.txt", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
            Assert.True(files.Length > 50, $"only {files.Length} corpus files");
            string config = Path.Combine(work, "settings.json");
            File.WriteAllText(config, """
                { "Analysis": { "Modules": ["example.com/shop"], "ContentionThreshold": 3, "RawTextLimitBytes": 64,
                                "Semantics": { "Layers": { "handler": "api" } } },
                  "GcAnalytics": { "PauseSloMs": 1 } }
                """);
            string invalid = Path.Combine(work, "invalid.json");
            File.WriteAllText(invalid, """{ "Analysis": { "ContentionThreshold": 1 } }""");

            string[][] runs =
            [
                ["analyze", "--json", .. files],
                ["analyze", "--json", "--config", config, .. files],
                ["analyze", "--config", config, .. files],
                ["analyze", "--config", invalid, files[0]],
                ["analyze", Path.Combine(work, "missing.txt")],
            ];
            string jit = Path.Combine(AppContext.BaseDirectory, "ingest");
            foreach (string[] args in runs)
            {
                var expected = Run(jit, args, work);
                var actual = Run(Path.Combine(native, "ingest"), args, work);
                string what = string.Join(' ', args.Take(4));
                Assert.Equal(expected.Code, actual.Code);
                Assert.True(expected.Out == actual.Out, $"stdout differs for {what}");
                Assert.Equal(expected.Err, actual.Err);
            }
            // The runs above meant something: events came out, the settings changed them, the bad file was refused.
            Assert.Contains("\"type\":\"crash\"", Run(jit, runs[0], work).Out, StringComparison.Ordinal);
            Assert.NotEqual(Run(jit, runs[0], work).Out, Run(jit, runs[1], work).Out);
            Assert.Contains("ContentionThreshold must be at least 2", Run(jit, runs[3], work).Err, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static (int Code, string Out, string Err) Run(string exe, string[] args, string cwd)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = cwd, StandardOutputEncoding = Encoding.UTF8 };
        foreach (string a in args) psi.ArgumentList.Add(a);
        // A narrow, colourless terminal for the human report, the same for both.
        psi.Environment["COLUMNS"] = "160";
        psi.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(10)), $"{exe} did not exit");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
