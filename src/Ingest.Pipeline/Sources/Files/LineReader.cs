using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ingest.Pipeline.Sources.Files;

/// <summary>
/// Splits a byte stream into lines without decoding it. One pooled buffer; a line longer than
/// <see cref="MaxLineBytes"/> is cut there (the cut part is reported, the rest skipped) so a 1 GB
/// line without a newline costs bounded memory.
/// </summary>
public sealed class LineReader(Stream stream, int maxLineBytes = 1024 * 1024, int bufferSize = 1 << 20) : IDisposable
{
    public delegate void LineHandler(ReadOnlySpan<byte> line, long lineNumber, bool cut);

    /// <summary>
    /// Receives each line, with the index in it of the first candidate of any block prefilter (0 without
    /// prefilters; -1 when they saw none in the line). A struct, so the call per line is direct and inlined: a
    /// delegate call per line was a tenth of the time on short lines.
    /// </summary>
    public interface ILineSink
    {
        void Line(ReadOnlySpan<byte> line, long lineNumber, bool cut, int firstCandidate);

        /// <summary>Lines shorter than this (at most 64) would change nothing now but the count; 0 when every line counts.</summary>
        int IgnoresLinesShorterThan { get; }

        /// <summary>That many such lines went by uncounted by <see cref="Line"/>.</summary>
        void Skipped(long lines);
    }

    /// <summary>
    /// Finds the first candidate at or after <c>from</c> in a block of several lines, or the block's length.
    /// One pass over the whole buffer replaces one call per line (see RuntimeOutputScanner.NextCandidate).
    /// </summary>
    public delegate int BlockPrefilter(ReadOnlySpan<byte> block, int from);

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(bufferSize, maxLineBytes + 1));

    // Newline bits of the 64 bytes from _maskBase (-1: none loaded). Short lines cost a bit scan each instead of
    // an IndexOf call each, which was a third of the time on 7-byte lines (docs/performance.md).
    private int _maskBase = -1;
    private ulong _mask;

    public int MaxLineBytes { get; } = maxLineBytes;

    /// <summary>Reads to the end, calling <paramref name="onLine"/> for every line (1-based numbers). Returns the line count.</summary>
    public long ReadAll(LineHandler onLine)
    {
        var sink = new DelegateSink(onLine);
        return ReadAll(ref sink);
    }

    private readonly struct DelegateSink(LineHandler onLine) : ILineSink
    {
        public void Line(ReadOnlySpan<byte> line, long lineNumber, bool cut, int firstCandidate) => onLine(line, lineNumber, cut);
        public int IgnoresLinesShorterThan => 0;
        public void Skipped(long lines) { }
    }

    public long ReadAll<TSink>(ref TSink sink, params BlockPrefilter[] prefilters) where TSink : struct, ILineSink
    {
        // Per prefilter: the absolute index in _buffer of its next candidate (-1: not computed), and how far
        // it has searched; each is searched again only once the lines pass its candidate.
        var candidate = new int[prefilters.Length];
        var searchedTo = new int[prefilters.Length];
        candidate.AsSpan().Fill(-1);
        long lineNo = 0;
        int start = 0, end = 0;
        bool skipping = false; // inside the tail of an over-long line
        while (true)
        {
            if (start > 0 && start == end)
            {
                start = end = 0;
                candidate.AsSpan().Fill(-1);
            }
            if (end == _buffer.Length)
            {
                if (start > 0)
                {
                    Buffer.BlockCopy(_buffer, start, _buffer, 0, end - start);
                    end -= start;
                    start = 0;
                    candidate.AsSpan().Fill(-1);
                }
            }
            int read = stream.Read(_buffer, end, _buffer.Length - end);
            if (read == 0) break;
            end += read;
            _maskBase = -1;
            while (true)
            {
                var pending = _buffer.AsSpan(start, end - start);
                int nl = NextNewline(start, end);
                // A short line the sink would ignore: step over the run it starts, if the data goes on long enough.
                if (nl >= 0 && !skipping && nl < sink.IgnoresLinesShorterThan)
                {
                    int n = SkipShortLines(ref start, end, Math.Min(sink.IgnoresLinesShorterThan, 64));
                    if (n > 0)
                    {
                        lineNo += n;
                        sink.Skipped(n);
                        continue;
                    }
                }
                if (nl < 0)
                {
                    if (pending.Length > MaxLineBytes)
                    {
                        if (!skipping) sink.Line(pending[..MaxLineBytes], ++lineNo, true, 0);
                        skipping = true;
                        start = end;
                    }
                    break;
                }
                if (!skipping)
                {
                    var line = pending[..nl];
                    bool cut = line.Length > MaxLineBytes;
                    int first = prefilters.Length == 0 ? 0 : -1;
                    for (int k = 0; k < prefilters.Length; k++)
                    {
                        // Candidates are searched up to the end of the data read so far; recompute when behind.
                        if (candidate[k] < start || (candidate[k] >= searchedTo[k] && searchedTo[k] < end))
                        {
                            candidate[k] = start + prefilters[k](_buffer.AsSpan(start, end - start), 0);
                            searchedTo[k] = end;
                        }
                        if (candidate[k] < start + nl && (first < 0 || candidate[k] - start < first)) first = candidate[k] - start;
                    }
                    sink.Line(cut ? line[..MaxLineBytes] : line, ++lineNo, cut, first);
                }
                skipping = false;
                start += nl + 1;
            }
        }
        if (end > start && !skipping)
        {
            var last = _buffer.AsSpan(start, end - start);
            bool cut = last.Length > MaxLineBytes;
            sink.Line(cut ? last[..MaxLineBytes] : last, ++lineNo, cut, 0);
        }
        return lineNo;
    }

    /// <summary>The index, relative to <paramref name="from"/>, of the next '\n' before <paramref name="end"/>; -1 when there is none.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private int NextNewline(int from, int end)
    {
        if (_maskBase < 0 || from < _maskBase || from >= _maskBase + 64)
        {
            if (from + 64 > end) return _buffer.AsSpan(from, end - from).IndexOf((byte)'\n');
            _maskBase = from;
            _mask = NewlineBits(from);
        }
        ulong m = _mask & (ulong.MaxValue << (from - _maskBase));
        if (m != 0) return _maskBase + BitOperations.TrailingZeroCount(m) - from;
        // A long line: the library search is faster past the window.
        int scanFrom = _maskBase + 64;
        int k = _buffer.AsSpan(scanFrom, end - scanFrom).IndexOf((byte)'\n');
        return k < 0 ? -1 : scanFrom + k - from;
    }

    /// <summary>
    /// Steps over the lines shorter than <paramref name="shorter"/> from <paramref name="start"/> on, 64 bytes at a
    /// time, and returns how many: logs of short lines paid a loop turn per line that grep, which never splits
    /// lines, does not (docs/performance.md). Stops before the first longer line and before the last 64 bytes.
    /// </summary>
    private int SkipShortLines(ref int start, int end, int shorter)
    {
        int skipped = 0;
        while (start + 64 <= end)
        {
            ulong newlines = NewlineBits(start);
            // Bit i of run: bytes i to i+shorter-1 hold no newline, so the line holding byte i is long enough to count.
            ulong text = ~newlines, run = text;
            for (int k = 1; k < shorter; k++) run &= text >> k;
            int firstLong = run == 0 ? 64 : BitOperations.TrailingZeroCount(run);
            ulong before = firstLong == 64 ? newlines : newlines & ((1UL << firstLong) - 1);
            if (before == 0) break;
            skipped += BitOperations.PopCount(before);
            start += 64 - BitOperations.LeadingZeroCount(before);
            if (firstLong < 64) break;
        }
        return skipped;
    }

    private ulong NewlineBits(int at)
    {
        ref byte r = ref MemoryMarshal.GetArrayDataReference(_buffer);
        if (Vector256.IsHardwareAccelerated)
        {
            var nl = Vector256.Create((byte)'\n');
            ulong lo = Vector256.Equals(Vector256.LoadUnsafe(ref r, (nuint)at), nl).ExtractMostSignificantBits();
            ulong hi = Vector256.Equals(Vector256.LoadUnsafe(ref r, (nuint)(at + 32)), nl).ExtractMostSignificantBits();
            return lo | (hi << 32);
        }
        ulong bits = 0;
        for (int i = 0; i < 64; i++)
        {
            if (_buffer[at + i] == '\n') bits |= 1UL << i;
        }
        return bits;
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }
}
