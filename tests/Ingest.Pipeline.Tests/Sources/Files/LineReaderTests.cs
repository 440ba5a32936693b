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
}
