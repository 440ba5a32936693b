using System.Text;

namespace Ingest.GoRuntime.Text;

/// <summary>
/// Interns function names and file paths straight from UTF-8 bytes. A 100,000-goroutine dump repeats a few
/// hundred names a million times; interning keeps memory proportional to distinct names and gives each a
/// small integer id, so stacks hash and compare without touching text again. Keyed by bytes (no decoding on
/// a hit). Hand-written because no BCL dictionary takes a byte span as an alternate key for string values.
/// Bounded: past <see cref="MaxEntries"/> names (hostile input) strings are still returned, with id -1.
/// </summary>
public sealed class StringTable
{
    public const int MaxEntries = 200_000;

    // Small to start: a worker keeps one table per stream, most of which see a few names.
    private int[] _buckets = new int[64];
    private Entry[] _entries = new Entry[32];
    private int _count;

    private struct Entry
    {
        public int Hash;
        public int Next;
        public byte[] Bytes;
        public string Value;
    }

    public int Count => _count;

    public string this[int id] => _entries[id].Value;

    public string Intern(ReadOnlySpan<byte> utf8, out int id)
    {
        int h = HashOf(utf8);
        for (int i = _buckets[h & (_buckets.Length - 1)] - 1; i >= 0; i = _entries[i].Next)
        {
            ref var e = ref _entries[i];
            if (e.Hash == h && utf8.SequenceEqual(e.Bytes))
            {
                id = i;
                return e.Value;
            }
        }
        string value = Ascii8.Decode(utf8);
        if (_count >= MaxEntries)
        {
            id = -1;
            return value;
        }
        id = Add(h, utf8.ToArray(), value);
        return value;
    }

    private int Add(int hash, byte[] bytes, string value)
    {
        if (_count == _entries.Length) Array.Resize(ref _entries, _entries.Length * 2);
        if (_count >= _buckets.Length * 3 / 4) Rehash(_buckets.Length * 2);
        int id = _count++;
        ref int bucket = ref _buckets[hash & (_buckets.Length - 1)];
        _entries[id] = new Entry { Hash = hash, Next = bucket - 1, Bytes = bytes, Value = value };
        bucket = id + 1;
        return id;
    }

    private void Rehash(int size)
    {
        _buckets = new int[size];
        for (int i = 0; i < _count; i++)
        {
            ref int bucket = ref _buckets[_entries[i].Hash & (size - 1)];
            _entries[i].Next = bucket - 1;
            bucket = i + 1;
        }
    }

    // XxHash3 is vectorised and much faster than HashCode.AddBytes on 20-100 byte names. The table is
    // per stream and never exposed, so a fixed seed is fine: flooding one bucket only slows that stream,
    // and MaxEntries bounds it.
    private static int HashOf(ReadOnlySpan<byte> s) => (int)System.IO.Hashing.XxHash3.HashToUInt64(s);
}
