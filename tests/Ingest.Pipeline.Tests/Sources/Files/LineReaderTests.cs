using System.Text;
using Ingest.Pipeline.Sources.Files;

namespace Ingest.Pipeline.Tests.Sources.Files;

public sealed class LineReaderTests
{
    /// <summary>Hands out at most a random number of bytes per read, as pipes and sockets do.</summary>
    private sealed class ChunkedStream(byte[] data, Random random, int maxChunk) : Stream
    {
        private int _at;
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, data.Length - _at), random.Next(1, maxChunk + 1));
            Array.Copy(data, _at, buffer, offset, n);
            _at += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _at; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>What the reader promises: lines split at '\n', numbered from 1, an over-long line cut at the limit.</summary>
    private static List<(string Line, long Number, bool Cut)> Reference(byte[] data, int maxLineBytes)
    {
        var lines = new List<(string, long, bool)>();
        int start = 0;
        long n = 0;
        for (int i = 0; i <= data.Length; i++)
        {
            if (i < data.Length && data[i] != '\n') continue;
            if (i == data.Length && start == data.Length) break;
            int length = i - start;
            bool cut = length > maxLineBytes;
            lines.Add((Encoding.Latin1.GetString(data, start, cut ? maxLineBytes : length), ++n, cut));
            start = i + 1;
        }
        return lines;
    }

    [Theory]
    [InlineData(1, 64, 256)]
    [InlineData(2, 200, 100)]
    [InlineData(3, 4096, 1000)]
    [InlineData(4, 1 << 20, 5000)]
    public void Lines_of_every_length_come_out_whole_whatever_the_reads_and_the_buffer(int seed, int bufferSize, int maxLineBytes)
    {
        var random = new Random(seed);
        var text = new List<byte>();
        for (int i = 0; i < 20_000; i++)
        {
            // Mostly lines about one or two newline windows (64 bytes) long, some empty, some past the limit.
            int length = random.Next(10) switch
            {
                0 => 0,
                1 => random.Next(maxLineBytes, maxLineBytes + 300),
                2 => random.Next(60, 140),
                _ => random.Next(1, 70),
            };
            for (int k = 0; k < length; k++) text.Add((byte)random.Next(' ', '~' + 1));
            if (i < 19_999 || seed % 2 == 0) text.Add((byte)'\n');
        }
        byte[] data = [.. text];
        var expected = Reference(data, maxLineBytes);

        var actual = new List<(string, long, bool)>();
        using var reader = new LineReader(new ChunkedStream(data, random, maxChunk: 3000), maxLineBytes, bufferSize);
        long count = reader.ReadAll((line, n, cut) => actual.Add((Encoding.Latin1.GetString(line), n, cut)));

        Assert.Equal(expected.Count, count);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++) Assert.True(expected[i] == actual[i], $"line {i + 1}: expected {expected[i]}, got {actual[i]}");
    }

    private sealed class Seen
    {
        public readonly List<(string Line, long Number)> Lines = [];
        public long Skipped;
        public bool Ignoring = true;
    }

    /// <summary>Ignores short lines except after a line "LISTEN-NOW" until "QUIET-NOW", as the scanner does inside an event.</summary>
    private readonly struct ShortLineSink(Seen seen) : LineReader.ILineSink
    {
        public void Line(ReadOnlySpan<byte> line, long lineNumber, bool cut, int firstCandidate)
        {
            string text = Encoding.Latin1.GetString(line);
            seen.Lines.Add((text, lineNumber));
            if (text == "LISTEN-NOW") seen.Ignoring = false;
            if (text == "QUIET-NOW") seen.Ignoring = true;
        }

        public int IgnoresLinesShorterThan => seen.Ignoring ? 7 : 0;
        public void Skipped(long lines) => seen.Skipped += lines;
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    public void Short_lines_may_be_stepped_over_in_bulk_and_are_still_counted(int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        for (int i = 0; i < 30_000; i++)
        {
            int r = random.Next(100);
            if (r == 0) text.Append("LISTEN-NOW\n");
            else if (r == 1) text.Append("QUIET-NOW\n");
            else text.Append(new string('x', random.Next(100) < 90 ? random.Next(0, 8) : random.Next(8, 200))).Append(random.Next(20) == 0 ? "\r\n" : "\n");
        }
        byte[] data = Encoding.Latin1.GetBytes(text.ToString());
        var expected = Reference(data, int.MaxValue);

        var seen = new Seen();
        var sink = new ShortLineSink(seen);
        using var reader = new LineReader(new ChunkedStream(data, random, maxChunk: 5000), bufferSize: 4096);
        long count = reader.ReadAll(ref sink);

        Assert.Equal(expected.Count, count);
        Assert.Equal(expected.Count, seen.Lines.Count + seen.Skipped);
        // Every line handed over is the line of that number; every line not handed over was short and came while ignored.
        var byNumber = expected.ToDictionary(e => e.Number, e => e.Line);
        Assert.All(seen.Lines, l => Assert.Equal(byNumber[l.Number], l.Line));
        var handed = seen.Lines.Select(l => l.Number).ToHashSet();
        bool ignoring = true;
        foreach (var (line, number, _) in expected)
        {
            if (!handed.Contains(number)) Assert.True(ignoring && line.Length < 7, $"line {number} ({line.Length} bytes) was skipped");
            if (line == "LISTEN-NOW") ignoring = false;
            if (line == "QUIET-NOW") ignoring = true;
        }
        Assert.True(seen.Skipped > expected.Count / 5, $"only {seen.Skipped} of {expected.Count} lines were stepped over");
    }

    private readonly struct CandidateSink(List<(string Line, int First)> seen) : LineReader.ILineSink
    {
        public void Line(ReadOnlySpan<byte> line, long lineNumber, bool cut, int firstCandidate) => seen.Add((Encoding.Latin1.GetString(line), firstCandidate));
        public int IgnoresLinesShorterThan => 0;
        public void Skipped(long lines) { }
    }

    [Fact]
    public void Each_line_gets_the_first_candidate_of_any_prefilter()
    {
        var random = new Random(9);
        var text = new StringBuilder();
        for (int i = 0; i < 5000; i++)
        {
            int length = random.Next(0, 300);
            for (int k = 0; k < length; k++) text.Append(random.Next(200) switch { 0 => 'X', 1 => 'Y', _ => (char)random.Next('a', 'z' + 1) });
            text.Append('\n');
        }
        byte[] data = Encoding.Latin1.GetBytes(text.ToString());
        static int Next(ReadOnlySpan<byte> block, int from, byte b) => block[from..].IndexOf(b) is var i and >= 0 ? from + i : block.Length;
        var seen = new List<(string Line, int First)>();
        var sink = new CandidateSink(seen);
        using var reader = new LineReader(new ChunkedStream(data, random, maxChunk: 7000), bufferSize: 4096);
        reader.ReadAll(ref sink, (b, f) => Next(b, f, (byte)'X'), (b, f) => Next(b, f, (byte)'Y'));
        Assert.Equal(5000, seen.Count);
        foreach (var (line, first) in seen)
        {
            int x = line.IndexOf('X', StringComparison.Ordinal), y = line.IndexOf('Y', StringComparison.Ordinal);
            int expected = x < 0 ? y : y < 0 ? x : Math.Min(x, y);
            Assert.True(expected == first, $"'{line}': expected {expected}, got {first}");
        }
        Assert.Contains(seen, s => s.First < 0);
        Assert.Contains(seen, s => s.First >= 0);
    }
}
