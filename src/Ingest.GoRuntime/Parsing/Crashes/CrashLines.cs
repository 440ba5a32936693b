using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Text;

namespace Ingest.GoRuntime.Parsing.Crashes;

/// <summary>Recognisers for the header lines of a crash: panic values, fatal errors, signal lines.</summary>
public static class CrashLines
{
    /// <summary><c>panic: X</c> at column 0, or <c>\tpanic: X</c> (a re-panic in a chain).</summary>
    public static bool TryParsePanic(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> value, out bool nested)
    {
        value = default;
        nested = false;
        var s = line;
        if (!s.IsEmpty && s[0] == '\t')
        {
            nested = true;
            s = s[1..];
        }
        if (!s.StartsWith("panic: "u8)) return false;
        value = Ascii8.TrimEnd(s[7..]);
        return true;
    }

    public static bool TryParseFatal(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> message)
    {
        message = default;
        if (!line.StartsWith("fatal error: "u8)) return false;
        message = Ascii8.TrimEnd(line[13..]);
        return true;
    }

    /// <summary>
    /// <c>2024/05/01 10:00:00 http: panic serving 10.0.0.1:5555: boom</c>: net/http recovered a handler panic.
    /// The prefix may be anything (the standard logger's flags vary); the marker itself is exact.
    /// </summary>
    public static bool TryParseHttpPanic(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> remote, out ReadOnlySpan<byte> value)
    {
        remote = default;
        value = default;
        int at = line.IndexOf("http: panic serving "u8);
        if (at < 0) return false;
        var s = line[(at + 20)..];
        // The address is host:port (IPv6 in brackets); the value follows ": ".
        int sep = s.IndexOf(": "u8);
        if (sep <= 0) return false;
        remote = s[..sep];
        if (remote.IndexOf((byte)' ') >= 0) return false;
        value = Ascii8.TrimEnd(s[(sep + 2)..]);
        return true;
    }

    /// <summary><c>[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x465f22]</c>; Go ≤1.4: <c>[signal 0xb code=...]</c>.</summary>
    public static bool TryParseSignalLine(ReadOnlySpan<byte> line, out SignalInfo? signal)
    {
        signal = null;
        var s = Ascii8.TrimEnd(line);
        if (!s.StartsWith("[signal "u8) || s[^1] != ']') return false;
        s = s[8..^1];
        int end = s.IndexOfAny((byte)':', (byte)' ');
        var name = end < 0 ? s : s[..end];
        signal = new SignalInfo(Ascii8.Decode(name), Field(s, "code="u8), Field(s, "addr="u8), Field(s, "pc="u8));
        return true;
    }

    /// <summary><c>SIGQUIT: quit</c>, <c>SIGSEGV: segmentation violation</c>, <c>SIGABRT: abort</c> at column 0.</summary>
    public static bool TryParseSignalHeader(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name)
    {
        name = default;
        if (line.Length < 6 || !line.StartsWith("SIG"u8)) return false;
        int colon = line.IndexOf((byte)':');
        if (colon < 4 || colon > 12) return false;
        var n = line[..colon];
        for (int i = 3; i < n.Length; i++)
        {
            if (!char.IsAsciiLetterUpper((char)n[i]) && !Ascii8.IsDigit(n[i])) return false;
        }
        name = n;
        return true;
    }

    /// <summary><c>PC=0x46b5a1 m=0 sigcode=0</c> (optionally <c> addr=0x0</c>).</summary>
    public static bool TryParsePcLine(ReadOnlySpan<byte> line, out string? pc, out string? sigcode, out string? addr)
    {
        pc = sigcode = addr = null;
        if (!line.StartsWith("PC=0x"u8)) return false;
        pc = Field(line, "PC="u8);
        sigcode = Field(line, "sigcode="u8);
        addr = Field(line, "addr="u8);
        return true;
    }

    public static bool TryParseExitStatus(ReadOnlySpan<byte> line, out int status)
    {
        status = 0;
        var s = Ascii8.TrimEnd(line);
        return s.StartsWith("exit status "u8) && Ascii8.TryParseInt(s[12..], out status);
    }

    private static string? Field(ReadOnlySpan<byte> s, ReadOnlySpan<byte> name)
    {
        int i = s.IndexOf(name);
        if (i < 0 || (i > 0 && s[i - 1] != ' ')) return null;
        var v = s[(i + name.Length)..];
        int end = v.IndexOfAny((byte)' ', (byte)']');
        return Ascii8.Decode(end < 0 ? v : v[..end]);
    }

    /// <summary>
    /// Race detector access line: <c>Write at 0x00c00001a128 by goroutine 7:</c>, <c>Previous read at 0x... by main goroutine:</c>.
    /// </summary>
    public static bool TryParseRaceAccess(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> op, out long goroutine)
    {
        op = default;
        goroutine = 0;
        var s = Ascii8.TrimEnd(line);
        if (s.IsEmpty || s[^1] != ':') return false;
        int at = s.IndexOf(" at 0x"u8);
        if (at <= 0) return false;
        int by = s.IndexOf(" by "u8);
        if (by < at) return false;
        op = s[..at];
        var who = s[(by + 4)..^1];
        if (who.SequenceEqual("main goroutine"u8))
        {
            goroutine = 1;
            return true;
        }
        return who.StartsWith("goroutine "u8) && Ascii8.TryParseLong(who[10..], out goroutine);
    }

    /// <summary><c>Goroutine 7 (running) created at:</c>.</summary>
    public static bool IsRaceCreatedAt(ReadOnlySpan<byte> line)
    {
        var s = Ascii8.TrimEnd(line);
        return s.StartsWith("Goroutine "u8) && s.EndsWith(" created at:"u8);
    }

    public static bool IsRaceSeparator(ReadOnlySpan<byte> line)
    {
        var s = Ascii8.TrimEnd(line);
        return s.Length >= 10 && s.IndexOfAnyExcept((byte)'=') < 0;
    }
}
