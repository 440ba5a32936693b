using System.Buffers;
using System.Text;

namespace Ingest.GoRuntime.Text;

/// <summary>
/// Interns function names and file paths read from bytes. A 100,000-goroutine dump repeats a few hundred
/// names a million times; interning keeps memory proportional to distinct names and gives each name a
/// small integer id so stacks can be compared and hashed without touching the text again.
/// Bounded: past <see cref="MaxEntries"/> names (hostile input) strings are still returned, just not kept.
/// </summary>
public sealed class StringTable
{
    public const int MaxEntries = 200_000;
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly List<string> _values = [];

    public StringTable() => _lookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();

    public int Count => _values.Count;

    public string this[int id] => _values[id];

    /// <summary>Returns the interned string and its id; id is -1 when the table is full.</summary>
    public string Intern(ReadOnlySpan<byte> utf8, out int id)
    {
        if (utf8.IsEmpty)
        {
            id = Intern(string.Empty);
            return string.Empty;
        }
        char[]? rented = null;
        int max = utf8.Length;
        Span<char> chars = max <= 512 ? stackalloc char[512] : (rented = ArrayPool<char>.Shared.Rent(max));
        try
        {
            int n = Encoding.UTF8.GetChars(utf8, chars);
            ReadOnlySpan<char> key = chars[..n];
            if (_lookup.TryGetValue(key, out string? existing, out id)) return existing;
            string s = key.ToString();
            id = Add(s);
            return s;
        }
        finally
        {
            if (rented is not null) ArrayPool<char>.Shared.Return(rented);
        }
    }

    public int Intern(string s)
    {
        if (_ids.TryGetValue(s, out int id)) return id;
        return Add(s);
    }

    private int Add(string s)
    {
        if (_values.Count >= MaxEntries) return -1;
        int id = _values.Count;
        _values.Add(s);
        _ids[s] = id;
        return id;
    }
}
