using System.Buffers;

namespace Ingest.Pipeline.Sources.Files;

/// <summary>
/// Splits a byte stream into lines without decoding it. One pooled buffer; a line longer than
/// <see cref="MaxLineBytes"/> is cut there (the cut part is reported, the rest skipped) so a 1 GB
/// line without a newline costs bounded memory.
/// </summary>
public sealed class LineReader(Stream stream, int maxLineBytes = 1024 * 1024, int bufferSize = 1 << 20) : IDisposable
{
    public delegate void LineHandler(ReadOnlySpan<byte> line, long lineNumber, bool cut);

    /// <summary>Like <see cref="LineHandler"/>, with whether the block prefilter saw a candidate inside the line.</summary>
    public delegate void HintedLineHandler(ReadOnlySpan<byte> line, long lineNumber, bool cut, bool candidate);

    /// <summary>
    /// Finds the first candidate at or after <c>from</c> in a block of several lines, or the block's length.
    /// One pass over the whole buffer replaces one call per line (see RuntimeOutputScanner.NextCandidate).
    /// </summary>
    public delegate int BlockPrefilter(ReadOnlySpan<byte> block, int from);

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(bufferSize, maxLineBytes + 1));

    public int MaxLineBytes { get; } = maxLineBytes;

    /// <summary>Reads to the end, calling <paramref name="onLine"/> for every line (1-based numbers). Returns the line count.</summary>
    public long ReadAll(LineHandler onLine) => ReadAll((line, n, cut, _) => onLine(line, n, cut), null);

    public long ReadAll(HintedLineHandler onLine, BlockPrefilter? prefilter)
    {
        int candidate = -1; // absolute index in _buffer of the next prefilter candidate; -1: not computed
        int searchedTo = 0;
        long lineNo = 0;
        int start = 0, end = 0;
        bool skipping = false; // inside the tail of an over-long line
        while (true)
        {
            if (start > 0 && start == end)
            {
                start = end = 0;
                candidate = -1;
            }
            if (end == _buffer.Length)
            {
                if (start > 0)
                {
                    Buffer.BlockCopy(_buffer, start, _buffer, 0, end - start);
                    end -= start;
                    start = 0;
                    candidate = -1;
                }
            }
            int read = stream.Read(_buffer, end, _buffer.Length - end);
            if (read == 0) break;
            end += read;
            while (true)
            {
                var pending = _buffer.AsSpan(start, end - start);
                int nl = pending.IndexOf((byte)'\n');
                if (nl < 0)
                {
                    if (pending.Length > MaxLineBytes)
                    {
                        if (!skipping) onLine(pending[..MaxLineBytes], ++lineNo, true, true);
                        skipping = true;
                        start = end;
                    }
                    break;
                }
                if (!skipping)
                {
                    var line = pending[..nl];
                    bool cut = line.Length > MaxLineBytes;
                    bool hit = true;
                    if (prefilter is not null)
                    {
                        // Candidates are searched up to the end of the data read so far; recompute when behind.
                        if (candidate < start || (candidate >= searchedTo && searchedTo < end))
                        {
                            candidate = start + prefilter(_buffer.AsSpan(start, end - start), 0);
                            searchedTo = end;
                        }
                        hit = candidate < start + nl;
                    }
                    onLine(cut ? line[..MaxLineBytes] : line, ++lineNo, cut, hit);
                }
                skipping = false;
                start += nl + 1;
            }
        }
        if (end > start && !skipping)
        {
            var last = _buffer.AsSpan(start, end - start);
            bool cut = last.Length > MaxLineBytes;
            onLine(cut ? last[..MaxLineBytes] : last, ++lineNo, cut, true);
        }
        return lineNo;
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
