using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Scanning;
using Ingest.Pipeline.Sources.Files;

namespace Ingest.Pipeline.Analysis;

/// <summary>Runs one byte stream (a file, stdin) through the scanner as one stream. Used by `ingest analyze` and tests.</summary>
public static class StreamAnalyzer
{
    public static long Analyze(Stream input, string streamName, AnalyzerOptions options, Action<RuntimeEvent> emit)
    {
        var scanner = new RuntimeOutputScanner(streamName, options, emit);
        using var reader = new LineReader(input, maxLineBytes: options.MaxLineBytes);
        var sink = new ScannerSink(scanner);
        long lines = reader.ReadAll(ref sink, RuntimeOutputScanner.NextCandidate, RuntimeOutputScanner.NextLoggedStack);
        scanner.Complete();
        return lines;
    }

    private readonly struct ScannerSink(RuntimeOutputScanner scanner) : LineReader.ILineSink
    {
        public void Line(ReadOnlySpan<byte> line, long lineNumber, bool cut, int firstCandidate) => scanner.Push(line, lineNumber, firstCandidate);
        public int IgnoresLinesShorterThan => scanner.IgnoresLinesShorterThan;
        public void Skipped(long lines) => scanner.Skipped(lines);
    }

    public static List<RuntimeEvent> Analyze(string path, AnalyzerOptions? options = null)
    {
        var events = new List<RuntimeEvent>();
        using var f = File.OpenRead(path);
        Analyze(f, path, options ?? new AnalyzerOptions(), events.Add);
        return events;
    }
}
