using System.Text;

namespace Ingest.Reporting.Postmortem;

/// <summary>
/// Log text placed in Markdown, escaped for where it stands. Markdown does not unescape inside code spans, so
/// code gets a backtick fence longer than any backtick run in it and no backslashes; text gets backslashes
/// before every character Markdown or GFM tables could read as syntax and entities for HTML. Line breaks
/// become spaces everywhere (a newline would end a table row or a list item).
/// </summary>
public static class MarkdownText
{
    private const string Punctuation = "\\`*_[]{}()#!|~";

    /// <summary>
    /// Inline text. List markers (<c>-</c>, <c>+</c>, <c>1.</c>, <c>1)</c>) only count at the start of a line, so
    /// only there are they escaped: times and versions stay readable in the raw draft.
    /// </summary>
    public static string Text(string s)
    {
        var sb = new StringBuilder(s.Length + 8);
        int leadingDigits = 0;
        while (leadingDigits < s.Length && char.IsAsciiDigit(s[leadingDigits])) leadingDigits++;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '&': sb.Append("&amp;"); break;
                case '\r' or '\n': sb.Append(' '); break;
                default:
                    bool marker = (i == 0 && c is '-' or '+') || (i == leadingDigits && i > 0 && c is '.' or ')');
                    if (marker || Punctuation.Contains(c, StringComparison.Ordinal)) sb.Append('\\');
                    sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>A code span that shows <paramref name="s"/> verbatim (empty text: nothing).</summary>
    public static string Code(string s)
    {
        s = s.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\r', ' ').Replace('\n', ' ');
        if (s.Length == 0) return string.Empty;
        string fence = new('`', LongestBacktickRun(s) + 1);
        // CommonMark strips one space on each side when both are there, and a backtick at the edge would join the fence.
        bool pad = s[0] == '`' || s[^1] == '`' || (s[0] == ' ' && s[^1] == ' ' && s.Trim().Length > 0);
        return pad ? $"{fence} {s} {fence}" : $"{fence}{s}{fence}";
    }

    /// <summary>
    /// Code in a table cell. GFM splits a row on every unescaped pipe before it sees code spans, and keeps the
    /// backslash of <c>\|</c> inside code in other renderers, so code with a pipe is written as escaped text.
    /// </summary>
    public static string CodeCell(string s) => s.Contains('|', StringComparison.Ordinal) ? Text(s) : Code(s);

    public static int LongestBacktickRun(string s)
    {
        int longest = 0, run = 0;
        foreach (char c in s)
        {
            run = c == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }
        return longest;
    }
}
