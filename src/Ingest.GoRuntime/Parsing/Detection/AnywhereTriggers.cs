using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ingest.GoRuntime.Parsing.Detection;

public enum AnywhereTrigger : byte
{
    None,
    /// <summary>"gc N @…" (gctrace)</summary>
    GcTrace,
    /// <summary>"pacer: …" (gcpacertrace)</summary>
    Pacer,
    /// <summary>"scav …" / "scvg…" (scavenger)</summary>
    Scavenger,
    /// <summary>"http: panic serving …"</summary>
    HttpPanic,
}

/// <summary>
/// One pass over a line for the runtime texts that may sit behind any prefix: <c>gc </c>, <c>pacer</c>,
/// <c>scav</c>/<c>scvg</c> and <c>panic serving</c>. All four contain a 'c' with a telling byte on each
/// side (g_' ', a_e, s_a / s_v, i_' '), so one vectorised compare of the line against itself shifted by
/// one byte finds every candidate; the exact parsers then decide. Five separate IndexOf calls per line
/// cost about 0.4 s per GB of ordinary logs; this costs a fraction of that (docs/performance.md).
/// Hand-written: the BCL's multi-string SearchValues works on chars, not UTF-8 bytes.
/// </summary>
public static class AnywhereTriggers
{
    /// <summary>The first candidate at or after <paramref name="from"/>, with the position of its 'c'; None when there is none.</summary>
    public static AnywhereTrigger Next(ReadOnlySpan<byte> s, ref int from)
    {
        int i = Math.Max(from, 1);
        ref byte r = ref MemoryMarshal.GetReference(s);
        if (Vector256.IsHardwareAccelerated)
        {
            // The vector stage reads two bytes either side of each 'c': a 'c' at index 1 ("gc 1 @..." at the start
            // of a line) is checked on its own first.
            if (i == 1)
            {
                if (s.Length > 2 && s[1] == 'c' && Verify(s, 1) is var first && first != AnywhereTrigger.None)
                {
                    from = 1;
                    return first;
                }
                i = 2;
            }
            var c = Vector256.Create((byte)'c');
            var g = Vector256.Create((byte)'g');
            var a = Vector256.Create((byte)'a');
            var e = Vector256.Create((byte)'e');
            var p = Vector256.Create((byte)'p');
            var rr = Vector256.Create((byte)'r');
            var sv = Vector256.Create((byte)'s');
            var v = Vector256.Create((byte)'v');
            var iv = Vector256.Create((byte)'i');
            var sp = Vector256.Create((byte)' ');
            var hash = Vector256.Create((byte)'#');
            var zero = Vector256.Create((byte)'0');
            var nine = Vector256.Create((byte)9);
            for (; i + Vector256<byte>.Count + 2 <= s.Length; i += Vector256<byte>.Count)
            {
                var cur = Vector256.LoadUnsafe(ref r, (nuint)i);
                var isC = Vector256.Equals(cur, c);
                var prev = Vector256.LoadUnsafe(ref r, (nuint)(i - 1));
                var next = Vector256.LoadUnsafe(ref r, (nuint)(i + 1));
                var next2 = Vector256.LoadUnsafe(ref r, (nuint)(i + 2));
                var nextSpace = Vector256.Equals(next, sp);
                // The same tests as Verify (less the fourth byte back of "panic serving"): text dense in 'c'
                // ("grace", "scan", "magic ") is rejected here instead of one candidate at a time, which made
                // such text 4x slower than grep (docs/performance.md).
                var digitOrHash = Vector256.LessThanOrEqual(next2 - zero, nine) | Vector256.Equals(next2, hash);
                var hit = (Vector256.Equals(prev, g) & nextSpace & digitOrHash) |
                          (Vector256.Equals(prev, a) & Vector256.Equals(next, e) & Vector256.Equals(next2, rr) &
                           Vector256.Equals(Vector256.LoadUnsafe(ref r, (nuint)(i - 2)), p)) |
                          (Vector256.Equals(prev, sv) & ((Vector256.Equals(next, a) & Vector256.Equals(next2, v)) | (Vector256.Equals(next, v) & Vector256.Equals(next2, g)))) |
                          (Vector256.Equals(prev, iv) & nextSpace & Vector256.Equals(next2, sv));
                uint mask = (hit & isC).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    int at = i + BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                    var t = Verify(s, at);
                    if (t != AnywhereTrigger.None)
                    {
                        from = at;
                        return t;
                    }
                }
            }
        }
        for (; i + 1 < s.Length; i++)
        {
            if (s[i] != 'c') continue;
            var t = Verify(s, i);
            if (t != AnywhereTrigger.None)
            {
                from = i;
                return t;
            }
        }
        from = s.Length;
        return AnywhereTrigger.None;
    }

    /// <summary>
    /// Whether the candidate at <paramref name="c"/> begins the text its parser reads ("scav ", not "scavenger";
    /// "gc 3 @" at a word start, not "agc 3"), which the parser would otherwise look for in the whole line. A
    /// newline before it counts as a line start, so it holds in a block of several lines too.
    /// </summary>
    public static bool BeginsToken(ReadOnlySpan<byte> s, int c, AnywhereTrigger trigger) => trigger switch
    {
        AnywhereTrigger.HttpPanic => At(s, c - 10, "http: panic serving "u8),
        AnywhereTrigger.GcTrace => c == 1 || s[c - 2] is (byte)' ' or (byte)'\t' or (byte)'"' or (byte)'\n',
        AnywhereTrigger.Pacer => At(s, c - 2, "pacer: "u8),
        AnywhereTrigger.Scavenger => At(s, c - 1, "scav "u8) || At(s, c - 1, "scvg"u8),
        _ => false,
    };

    private static bool At(ReadOnlySpan<byte> s, int i, ReadOnlySpan<byte> token) => i >= 0 && s[i..].StartsWith(token);

    /// <summary>Checks the bytes around the 'c' at <paramref name="c"/> ("trace_id" must not look like "pacer").</summary>
    private static AnywhereTrigger Verify(ReadOnlySpan<byte> s, int c)
    {
        byte prev = s[c - 1], next = s[c + 1];
        byte next2 = c + 2 < s.Length ? s[c + 2] : (byte)0;
        switch (prev)
        {
            case (byte)'g' when next == ' ' && (next2 == '#' || (uint)(next2 - '0') <= 9):
                return AnywhereTrigger.GcTrace;
            case (byte)'a' when next == 'e' && next2 == 'r' && c >= 2 && s[c - 2] == 'p':
                return AnywhereTrigger.Pacer;
            case (byte)'s' when (next == 'a' && next2 == 'v') || (next == 'v' && next2 == 'g'):
                return AnywhereTrigger.Scavenger;
            case (byte)'i' when next == ' ' && next2 == 's' && c >= 4 && s[c - 4] == 'p':
                return AnywhereTrigger.HttpPanic;
            default:
                return AnywhereTrigger.None;
        }
    }
}
