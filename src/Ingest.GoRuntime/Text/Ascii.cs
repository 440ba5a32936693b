using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Ingest.GoRuntime.Text;

/// <summary>Small span helpers for UTF-8 log text. Everything here is linear and allocation-free unless it returns a string.</summary>
internal static class Ascii8
{

    // Scalar on purpose: runtime lines carry zero or one tab of indentation, and a vectorised search
    // costs more to set up than this loop costs to run.
    public static ReadOnlySpan<byte> TrimStart(ReadOnlySpan<byte> s)
    {
        int i = 0;
        while (i < s.Length && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) i++;
        return s[i..];
    }

    public static ReadOnlySpan<byte> TrimEnd(ReadOnlySpan<byte> s)
    {
        int i = s.Length;
        while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t' || s[i - 1] == '\r')) i--;
        return s[..i];
    }

    public static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> s) => TrimEnd(TrimStart(s));

    public static bool IsBlank(ReadOnlySpan<byte> s) => TrimStart(s).IsEmpty;

    public static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    public static bool IsHexDigit(byte b) => IsDigit(b) || (uint)((b | 0x20) - 'a') <= 5;

    /// <summary>Parses a non-negative decimal integer that fills the whole span.</summary>
    public static bool TryParseLong(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.IsEmpty || s.Length > 18) return false;
        foreach (byte b in s)
        {
            if (!IsDigit(b)) return false;
            value = value * 10 + (b - '0');
        }
        return true;
    }

    public static bool TryParseInt(ReadOnlySpan<byte> s, out int value)
    {
        value = 0;
        if (!TryParseLong(s, out long l) || l > int.MaxValue) return false;
        value = (int)l;
        return true;
    }

    /// <summary>Parses "0x1f" (the prefix is required).</summary>
    public static bool TryParseHex(ReadOnlySpan<byte> s, out ulong value)
    {
        value = 0;
        if (s.Length < 3 || s[0] != '0' || (s[1] | 0x20) != 'x' || s.Length > 18) return false;
        return Utf8Parser.TryParse(s[2..], out value, out int consumed, 'x') && consumed == s.Length - 2;
    }

    /// <summary>Parses a decimal number such as "0.123" or "12" without culture or exponent.</summary>
    public static bool TryParseDouble(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        if (s.IsEmpty || s.Length > 32) return false;
        foreach (byte b in s)
        {
            if (!IsDigit(b) && b != '.') return false;
        }
        return Utf8Parser.TryParse(s, out value, out int consumed) && consumed == s.Length;
    }

    /// <summary>Decodes UTF-8; invalid sequences become U+FFFD, so garbage never throws.</summary>
    public static string Decode(ReadOnlySpan<byte> s) => s.IsEmpty ? string.Empty : Encoding.UTF8.GetString(s);
}
