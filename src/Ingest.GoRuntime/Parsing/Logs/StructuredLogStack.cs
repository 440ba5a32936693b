using System.Text.Json;

namespace Ingest.GoRuntime.Parsing.Logs;

/// <summary>What a structured log record said about a failure: its message, error text and the Go stack text.</summary>
public sealed record LoggedStack(string? Message, string? Error, string Stack);

/// <summary>
/// Finds a Go stack inside a JSON log record: in a stack field (zap's form, function line then tab + file:line,
/// no goroutine header; or <c>debug.Stack()</c> text), or <c>debug.Stack()</c> text printed inside the message
/// or error. One forward pass of <see cref="Utf8JsonReader"/>; a line without an escaped newline-tab (every Go
/// stack has one) is rejected before any JSON is read.
/// </summary>
public static class StructuredLogStack
{
    private const int MaxDepth = 4;

    /// <summary>An escaped newline and tab: a Go stack inside a JSON string has one before every file line.</summary>
    public static ReadOnlySpan<byte> EscapedFrameBreak => "\\n\\t"u8;

    public static bool TryRead(ReadOnlySpan<byte> line, LoggedStackFields fields, out LoggedStack? stack)
    {
        stack = null;
        if (line.IsEmpty || line[0] != '{' || line.IndexOf(EscapedFrameBreak) < 0) return false;
        string? message = null, error = null, stackText = null;
        int messageRank = int.MaxValue, errorRank = int.MaxValue, stackRank = int.MaxValue;
        var path = new string?[MaxDepth];
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 16 });
        try
        {
            while (reader.Read())
            {
                int depth = reader.CurrentDepth;
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        if (depth <= MaxDepth) path[depth - 1] = reader.GetString();
                        break;
                    case JsonTokenType.String when depth <= MaxDepth:
                        string name = depth == 1 ? path[0]! : string.Join('.', path, 0, depth);
                        int rank;
                        if ((rank = fields.Stack.IndexOf(name)) >= 0 && rank < stackRank)
                        {
                            string value = reader.GetString()!;
                            // "stack": "blue" is a field that happens to be called stack.
                            if (LooksLikeStack(value)) (stackText, stackRank) = (value, rank);
                        }
                        else if ((rank = fields.Error.IndexOf(name)) >= 0 && rank < errorRank) (error, errorRank) = (reader.GetString(), rank);
                        else if ((rank = fields.Message.IndexOf(name)) >= 0 && rank < messageRank) (message, messageRank) = (reader.GetString(), rank);
                        break;
                }
            }
        }
        catch (JsonException)
        {
            return false; // not a JSON record after all (a log line that starts with '{')
        }
        if (stackText is null)
        {
            // debug.Stack() printed into the message (or error) itself: the text from its goroutine header on.
            if (SplitAtGoroutineHeader(message) is { } m) (message, stackText) = m;
            else if (SplitAtGoroutineHeader(error) is { } e) (error, stackText) = e;
            else return false;
        }
        stack = new LoggedStack(message, error, stackText);
        return true;
    }

    /// <summary>A function line followed by an indented file:line, somewhere in the text.</summary>
    private static bool LooksLikeStack(string value)
    {
        int tab = value.IndexOf("\n\t", StringComparison.Ordinal);
        return tab > 0 && value.IndexOf(".go:", tab, StringComparison.Ordinal) > 0;
    }

    private static (string Before, string Stack)? SplitAtGoroutineHeader(string? text)
    {
        if (text is null) return null;
        int at = text.StartsWith("goroutine ", StringComparison.Ordinal) ? 0
            : text.IndexOf("\ngoroutine ", StringComparison.Ordinal) is >= 0 and int nl ? nl + 1 : -1;
        if (at < 0) return null;
        int eol = text.IndexOf('\n', at);
        if (eol < 0 || !Goroutines.GoroutineGrammar.TryParseHeader(System.Text.Encoding.UTF8.GetBytes(text[at..eol]), out _) || !LooksLikeStack(text[at..])) return null;
        return (text[..at].TrimEnd('\n'), text[at..]);
    }
}
