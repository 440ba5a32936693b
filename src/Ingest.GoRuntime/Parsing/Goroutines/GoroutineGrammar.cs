using Ingest.GoRuntime.Text;

namespace Ingest.GoRuntime.Parsing.Goroutines;

public readonly ref struct GoroutineHeader
{
    public long Id { get; init; }
    public ReadOnlySpan<byte> State { get; init; }
    public int WaitMinutes { get; init; }
    public bool LockedToThread { get; init; }
    public int? M { get; init; }
}

public readonly ref struct FunctionLine
{
    public ReadOnlySpan<byte> Function { get; init; }
    public ReadOnlySpan<byte> Args { get; init; }
    public bool Inlined => Args.Length == 3 && Args[0] == '.' && Args[1] == '.' && Args[2] == '.';
}

public readonly ref struct FileLine
{
    public ReadOnlySpan<byte> Path { get; init; }
    public int Line { get; init; }
}

/// <summary>
/// Recognisers for the lines of a goroutine section. Each is a hand-written linear scan: log text is
/// attacker-controlled, so no backtracking regex, and no allocation before a line is known to match.
/// Leading whitespace is tolerated everywhere (goconvey and old runtimes indent with spaces).
/// </summary>
public static class GoroutineGrammar
{
    private static readonly System.Buffers.SearchValues<byte> s_lowerHex = System.Buffers.SearchValues.Create("0123456789abcdef"u8);

    /// <summary>
    /// <c>goroutine 1 [running]:</c>, <c>goroutine 7 gp=0xc000003340 m=nil [chan receive, 5 minutes, locked to thread]:</c>.
    /// The bracket text is open-ended (Go 1.27 adds pprof labels); only state, minutes and lock are read.
    /// </summary>
    public static bool TryParseHeader(ReadOnlySpan<byte> line, out GoroutineHeader header) =>
        TryParseHeaderTrimmed(Ascii8.Trim(line), out header);

    /// <summary><see cref="TryParseHeader"/> on a line already trimmed of surrounding whitespace.</summary>
    public static bool TryParseHeaderTrimmed(ReadOnlySpan<byte> s, out GoroutineHeader header)
    {
        header = default;
        if (!s.StartsWith("goroutine "u8) || s.Length < 16 || s[^1] != ':' || s[^2] != ']') return false;
        s = s[10..];
        int sp = s.IndexOf((byte)' ');
        if (sp <= 0 || !Ascii8.TryParseLong(s[..sp], out long id)) return false;
        var rest = s[(sp + 1)..];
        int? m = null;
        int open = rest.IndexOf((byte)'[');
        if (open < 0) return false;
        if (open > 0)
        {
            // gp=0x... m=N mp=0x... fields (Go 1.2x crash dumps)
            var fields = rest[..open];
            int mi = fields.IndexOf(" m="u8);
            var mField = mi >= 0 ? fields[(mi + 3)..] : fields.StartsWith("m="u8) ? fields[2..] : [];
            if (!mField.IsEmpty)
            {
                int end = mField.IndexOf((byte)' ');
                if (Ascii8.TryParseInt(end < 0 ? mField : mField[..end], out int mv)) m = mv;
            }
            if (!fields.StartsWith("gp="u8) && !fields.StartsWith("m="u8)) return false;
        }
        var inner = rest[(open + 1)..^2];
        int comma = inner.IndexOf(", "u8);
        var state = comma < 0 ? inner : inner[..comma];
        if (state.IsEmpty) return false;
        int minutes = 0;
        bool locked = false;
        var tail = comma < 0 ? [] : inner[(comma + 2)..];
        while (!tail.IsEmpty)
        {
            int c = tail.IndexOf(", "u8);
            var part = c < 0 ? tail : tail[..c];
            tail = c < 0 ? [] : tail[(c + 2)..];
            if (part.SequenceEqual("locked to thread"u8)) locked = true;
            else if (part.EndsWith(" minutes"u8) && Ascii8.TryParseInt(part[..^8], out int mins)) minutes = mins;
        }
        header = new GoroutineHeader { Id = id, State = state, WaitMinutes = minutes, LockedToThread = locked, M = m };
        return true;
    }

    /// <summary>
    /// <c>example.com/shop/internal/store.(*Repo).Find(0xc0000a6000, {0x6a1b2c, 0x3})</c>, <c>main.main()</c>,
    /// <c>sync.(*Mutex).Lock(...)</c>, <c>main.Map[...](...)</c>. The argument list is the bracket group that ends the line.
    /// </summary>
    public static bool TryParseFunction(ReadOnlySpan<byte> line, out FunctionLine fn) =>
        TryParseFunctionTrimmed(Ascii8.Trim(line), out fn);

    public static bool TryParseFunctionTrimmed(ReadOnlySpan<byte> s, out FunctionLine fn)
    {
        fn = default;
        if (s.Length < 3 || s[^1] != ')') return false;
        int depth = 0;
        int open = -1;
        for (int i = s.Length - 1; i >= 0; i--)
        {
            byte b = s[i];
            if (b == ')') depth++;
            else if (b == '(')
            {
                depth--;
                if (depth == 0)
                {
                    open = i;
                    break;
                }
            }
        }
        if (open <= 0) return false;
        var name = s[..open];
        // Function names hold no spaces; a log sentence ending in ")" must not pass.
        if (name.IndexOfAny((byte)' ', (byte)'\t', (byte)'"') >= 0 ) return false;
        if (name[^1] == '.' || name[0] == '.') return false;
        fn = new FunctionLine { Function = name, Args = s[(open + 1)..^1] };
        return true;
    }

    /// <summary>
    /// <c>\t/usr/lib/go/src/runtime/proc.go:250 +0x212</c>, with optional <c> fp=.. sp=.. pc=..</c>; must be indented.
    /// </summary>
    public static bool TryParseFileLine(ReadOnlySpan<byte> line, out FileLine file)
    {
        file = default;
        if (line.IsEmpty || (line[0] != '\t' && line[0] != ' ')) return false;
        return TryParseFileLineTrimmed(Ascii8.Trim(line), out file);
    }

    /// <summary>The trimmed text of a line that was indented.</summary>
    public static bool TryParseFileLineTrimmed(ReadOnlySpan<byte> s, out FileLine file)
    {
        file = default;
        if (s.IsEmpty) return false;
        int cut = s.IndexOf(" +0x"u8);
        if (cut < 0) cut = s.IndexOf(" fp="u8);
        if (cut >= 0) s = s[..cut];
        int colon = s.LastIndexOf((byte)':');
        if (colon <= 0 || colon == s.Length - 1) return false;
        if (!Ascii8.TryParseInt(s[(colon + 1)..], out int ln)) return false;
        var path = s[..colon];
        if (path.IndexOf((byte)'\t') >= 0) return false;
        file = new FileLine { Path = path, Line = ln };
        return true;
    }

    /// <summary><c>created by net/http.(*Server).Serve</c> or <c>created by main.main in goroutine 1</c>.</summary>
    public static bool TryParseCreatedBy(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> function, out long? parentGoroutine) =>
        TryParseCreatedByTrimmed(Ascii8.Trim(line), out function, out parentGoroutine);

    public static bool TryParseCreatedByTrimmed(ReadOnlySpan<byte> s, out ReadOnlySpan<byte> function, out long? parentGoroutine)
    {
        function = default;
        parentGoroutine = null;
        if (!s.StartsWith("created by "u8)) return false;
        s = s[11..];
        int inG = s.IndexOf(" in goroutine "u8);
        if (inG >= 0)
        {
            if (Ascii8.TryParseLong(s[(inG + 14)..], out long parent)) parentGoroutine = parent;
            s = s[..inG];
        }
        if (s.IsEmpty || s.IndexOf((byte)' ') >= 0) return false;
        function = s;
        return true;
    }

    /// <summary><c>...additional frames elided...</c> (≤ Go 1.20) or <c>...N frames elided...</c> (Go 1.21+).</summary>
    public static bool IsElided(ReadOnlySpan<byte> line)
    {
        var s = Ascii8.Trim(line);
        return s.StartsWith("..."u8) && s.EndsWith(" elided..."u8);
    }

    public static bool IsStackUnavailable(ReadOnlySpan<byte> line) =>
        Ascii8.Trim(line).SequenceEqual("goroutine running on other thread; stack unavailable"u8);

    /// <summary><c>[originating from goroutine 7]:</c> (GODEBUG=tracebackancestors): the creator's stack when it started the goroutine.</summary>
    public static bool TryParseAncestorHeader(ReadOnlySpan<byte> line, out long id)
    {
        var s = Ascii8.Trim(line);
        id = 0;
        const int Start = 28; // "[originating from goroutine ".Length
        return s.StartsWith("[originating from goroutine "u8) && s.EndsWith("]:"u8) && Ascii8.TryParseLong(s[Start..^2], out id);
    }

    /// <summary>Register dump lines after a signal dump: <c>rax    0x0</c>, <c>r8     0x1</c>, <c>rip    0x45e1e1</c>.</summary>
    public static bool IsRegisterLine(ReadOnlySpan<byte> line)
    {
        var s = Ascii8.TrimEnd(line);
        int i = 0;
        while (i < s.Length && i < 8 && (char.IsAsciiLetterLower((char)s[i]) || Ascii8.IsDigit(s[i]))) i++;
        if (i < 2 || i >= s.Length || s[i] != ' ' && s[i] != '\t') return false;
        var v = Ascii8.TrimStart(s[i..]);
        return v.Length >= 3 && v[0] == '0' && v[1] == 'x' && v[2..].IndexOfAnyExcept(s_lowerHex) < 0;
    }
}
