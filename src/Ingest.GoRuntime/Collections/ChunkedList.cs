namespace Ingest.GoRuntime.Collections;

/// <summary>
/// An append-only list in fixed chunks below the large-object threshold. A 100,000-goroutine dump would
/// otherwise grow List&lt;T&gt; buffers of several MB on the large object heap, and every such allocation
/// counts toward a full (gen 2) collection; chunks stay in gen 0/1 and are never copied on growth.
/// </summary>
public sealed class ChunkedList<T> where T : struct
{
    private readonly int _chunkSize;
    private readonly List<T[]> _chunks = [];
    private int _countInLast;

    public ChunkedList()
    {
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        _chunkSize = Math.Max(16, 64 * 1024 / size);
    }

    public int Count { get; private set; }

    public void Add(in T item)
    {
        if (_chunks.Count == 0 || _countInLast == _chunkSize)
        {
            _chunks.Add(new T[_chunks.Count == 0 ? Math.Min(64, _chunkSize) : _chunkSize]);
            _countInLast = 0;
        }
        var last = _chunks[^1];
        if (_countInLast == last.Length)
        {
            // The first chunk starts small and doubles up to full size: a worker holds thousands of open events,
            // most with a few hundred goroutines (a full 64 KB chunk each held 155 KB per 400-line dump).
            Array.Resize(ref last, Math.Min(_chunkSize, last.Length * 2));
            _chunks[^1] = last;
        }
        last[_countInLast++] = item;
        Count++;
    }

    public void Clear()
    {
        _chunks.Clear();
        _countInLast = 0;
        Count = 0;
    }

    public IEnumerable<T> Items()
    {
        for (int c = 0; c < _chunks.Count; c++)
        {
            var chunk = _chunks[c];
            int n = c == _chunks.Count - 1 ? _countInLast : chunk.Length;
            for (int i = 0; i < n; i++) yield return chunk[i];
        }
    }

    public T[] ToArray()
    {
        var result = new T[Count];
        int at = 0;
        for (int c = 0; c < _chunks.Count; c++)
        {
            int n = c == _chunks.Count - 1 ? _countInLast : _chunks[c].Length;
            Array.Copy(_chunks[c], 0, result, at, n);
            at += n;
        }
        return result;
    }
}
