using System.Text.Json;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Analysis;

namespace Ingest.GoRuntime.Tests.Support;

/// <summary>Locates corpus files copied next to the test assembly and runs them through the shared pipeline path.</summary>
public static class Corpus
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Corpus");

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    public static IEnumerable<string> Files(string folder, string pattern = "*.txt") =>
        Directory.Exists(Path.Combine(Root, folder))
            ? Directory.GetFiles(Path.Combine(Root, folder), pattern).Select(f => Path.GetRelativePath(Root, f)).Order(StringComparer.Ordinal)
            : [];

    public static List<RuntimeEvent> Analyze(string relative, AnalyzerOptions? options = null) =>
        StreamAnalyzer.Analyze(PathOf(relative), options);

    public static List<RuntimeEvent> AnalyzeText(string text, AnalyzerOptions? options = null, string stream = "test")
    {
        var events = new List<RuntimeEvent>();
        using var ms = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text));
        StreamAnalyzer.Analyze(ms, stream, options ?? new AnalyzerOptions(), events.Add);
        return events;
    }

    public static JsonElement Expectation(string relativeTxt)
    {
        string path = PathOf(Path.ChangeExtension(relativeTxt, null) + ".expect.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    public static bool HasExpectation(string relativeTxt) => File.Exists(PathOf(Path.ChangeExtension(relativeTxt, null) + ".expect.json"));
}
