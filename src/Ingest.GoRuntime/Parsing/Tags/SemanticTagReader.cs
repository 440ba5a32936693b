using Ingest.GoRuntime.Text;

namespace Ingest.GoRuntime.Parsing.Tags;

public readonly ref struct SemanticTag
{
    public ReadOnlySpan<byte> Timestamp { get; init; }
    public ReadOnlySpan<byte> Layer { get; init; }
    public ReadOnlySpan<byte> Intent { get; init; }
    public ReadOnlySpan<byte> FrameId { get; init; }
    public ReadOnlySpan<byte> Message { get; init; }
}

/// <summary>
/// <c>[layer:intent:frame_id] message</c>, optionally after a timestamp. Layer is app/service/dao/infra,
/// intent is read/write/validate/retry, frame_id a UUID. Anything else in brackets (<c>[INFO]</c>,
/// <c>[app:unknown:x]</c>) is not a tag.
/// </summary>
public static class SemanticTagReader
{
    private static readonly System.Buffers.SearchValues<byte> s_timestampChars = System.Buffers.SearchValues.Create("0123456789-:.TZ+/ ,"u8);

    public static readonly string[] Layers = ["app", "service", "dao", "infra"];
    public static readonly string[] Intents = ["read", "write", "validate", "retry"];

    /// <summary>The shortest text a tag fits in, from its opening bracket: "[dao:read:", a 36-character UUID, "]" and more.</summary>
    private const int MinLength = 48;

    public static bool TryRead(ReadOnlySpan<byte> line, out SemanticTag tag)
    {
        tag = default;
        if (line.Length < MinLength) return false;
        // The tag is the first thing after an optional timestamp: skip timestamp characters (bounded), then '['.
        int open = line[..Math.Min(line.Length, 41)].IndexOfAnyExcept(s_timestampChars);
        if (open < 0 || line[open] != '[' || line.Length - open < MinLength) return false;
        var prefix = Ascii8.TrimEnd(line[..open]);
        if (!IsTimestampLike(prefix)) return false;
        var rest = line[(open + 1)..];
        int close = rest.IndexOf((byte)']');
        if (close < 0) return false;
        var inner = rest[..close];
        int c1 = inner.IndexOf((byte)':');
        if (c1 < 0) return false;
        var layer = inner[..c1];
        var afterLayer = inner[(c1 + 1)..];
        int c2 = afterLayer.IndexOf((byte)':');
        if (c2 < 0) return false;
        var intent = afterLayer[..c2];
        var id = afterLayer[(c2 + 1)..];
        if (!IsOneOf(layer, Layers) || !IsOneOf(intent, Intents) || !IsUuid(id)) return false;
        tag = new SemanticTag
        {
            Timestamp = prefix,
            Layer = layer,
            Intent = intent,
            FrameId = id,
            Message = Ascii8.Trim(rest[(close + 1)..]),
        };
        return true;
    }

    private static bool IsOneOf(ReadOnlySpan<byte> s, string[] options)
    {
        foreach (string o in options)
        {
            if (s.Length == o.Length && System.Text.Ascii.Equals(s, o)) return true;
        }
        return false;
    }

    /// <summary>Empty, or a timestamp of digits and -:.TZ+/ and spaces ("2024-05-01T10:00:00.123Z", "2024/05/01 10:00:00").</summary>
    private static bool IsTimestampLike(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty) return true;
        if (s.Length > 40 || !Ascii8.IsDigit(s[0])) return false;
        return s.IndexOfAnyExcept(s_timestampChars) < 0;
    }

    public static bool IsUuid(ReadOnlySpan<byte> s)
    {
        if (s.Length != 36) return false;
        for (int i = 0; i < 36; i++)
        {
            bool dash = i is 8 or 13 or 18 or 23;
            if (dash ? s[i] != '-' : !Ascii8.IsHexDigit(s[i])) return false;
        }
        return true;
    }
}
