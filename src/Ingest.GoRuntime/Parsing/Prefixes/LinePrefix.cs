using Ingest.GoRuntime.Text;

namespace Ingest.GoRuntime.Parsing.Prefixes;

/// <summary>
/// Removes what log plumbing puts in front of every line of a stream, so runtime output is recognised at
/// its real column 0: the CRI log format of /var/log/containers (<c>2024-05-01T10:00:00.123456789Z stderr F </c>),
/// kubectl --timestamps (<c>2024-05-01T10:00:00.123Z </c>), kubectl --prefix (<c>[pod/shop-7f9/shop] </c>) and
/// docker compose (<c>shop-1  | </c>). Each check is a bounded left-to-right scan; a line that matches none
/// is returned whole.
/// </summary>
public static class LinePrefix
{
    private const int MaxPrefix = 96;

    public static ReadOnlySpan<byte> Strip(ReadOnlySpan<byte> line)
    {
        if (line.Length < 4) return line;
        byte b = line[0];
        if (Ascii8.IsDigit(b))
        {
            int ts = TimestampLength(line);
            if (ts == 0 || ts >= line.Length || line[ts] != ' ') return line;
            var rest = line[(ts + 1)..];
            // CRI: "<ts> stdout|stderr F|P <message>"
            if (rest.Length >= 9 && (rest.StartsWith("stdout "u8) || rest.StartsWith("stderr "u8)) && (rest[7] == 'F' || rest[7] == 'P') && rest[8] == ' ')
            {
                return rest[9..];
            }
            return rest;
        }
        if (b == '[' && line.StartsWith("[pod/"u8))
        {
            int close = line[..Math.Min(line.Length, MaxPrefix)].IndexOf("] "u8);
            return close > 0 ? line[(close + 2)..] : line;
        }
        if (char.IsAsciiLetter((char)b))
        {
            // docker compose: "<name>  | " with name of [A-Za-z0-9_.-]
            int i = 1;
            int max = Math.Min(line.Length, MaxPrefix);
            while (i < max && (char.IsAsciiLetterOrDigit((char)line[i]) || line[i] is (byte)'_' or (byte)'-' or (byte)'.')) i++;
            int nameEnd = i;
            while (i < max && line[i] == ' ') i++;
            if (i > nameEnd && i + 1 < line.Length && line[i] == '|' && line[i + 1] == ' ') return line[(i + 2)..];
        }
        return line;
    }

    /// <summary>Length of an RFC 3339 timestamp at the start ("2024-05-01T10:00:00Z", "...00.123456789+02:00"), else 0.</summary>
    public static int TimestampLength(ReadOnlySpan<byte> s)
    {
        // yyyy-mm-ddThh:mm:ss
        if (s.Length < 20) return 0;
        ReadOnlySpan<byte> shape = "dddd-dd-ddTdd:dd:dd"u8;
        for (int k = 0; k < shape.Length; k++)
        {
            byte want = shape[k];
            if (want == 'd' ? !Ascii8.IsDigit(s[k]) : s[k] != want) return 0;
        }
        int i = shape.Length;
        if (i < s.Length && s[i] == '.')
        {
            i++;
            int start = i;
            while (i < s.Length && i - start < 9 && Ascii8.IsDigit(s[i])) i++;
            if (i == start) return 0;
        }
        if (i < s.Length && s[i] == 'Z') return i + 1;
        if (i + 6 <= s.Length && (s[i] == '+' || s[i] == '-') && Ascii8.IsDigit(s[i + 1]) && Ascii8.IsDigit(s[i + 2]) && s[i + 3] == ':' &&
            Ascii8.IsDigit(s[i + 4]) && Ascii8.IsDigit(s[i + 5]))
        {
            return i + 6;
        }
        return 0;
    }
}
