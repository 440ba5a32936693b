using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.Pipeline.Model;

namespace Ingest.Pipeline.Sources.Kafka.Decoding;

/// <summary>
/// Turns one Kafka message into log lines with their metadata. Raw messages are split on '\n' without copying;
/// JSON envelopes are parsed once with System.Text.Json (bounded by the message size) and their text field split.
/// A message that cannot be decoded returns an error for the dead-letter topic; nothing is guessed.
/// </summary>
public sealed class MessageDecoder(MessageFormat format, JsonFieldMapping? mapping = null)
{
    private const int MaxCachedKeys = 100_000;
    private readonly JsonFieldMapping _mapping = mapping ?? new JsonFieldMapping();
    // Raw messages without headers: one metadata object per key, reused (its identity is computed once).
    private readonly Ingest.GoRuntime.Text.StringTable _keys = new();
    private readonly Dictionary<string, SourceMetadata> _byKey = new(StringComparer.Ordinal);

    public MessageFormat Format => format;

    /// <returns>null on success, else the reason for the dead-letter topic.</returns>
    public string? Decode(ConsumeResult<byte[], byte[]> result, List<DecodedLine> into)
    {
        byte[]? value = result.Message.Value;
        if (value is null) return null; // tombstone: nothing to index (an empty value is an empty line)
        return format switch
        {
            MessageFormat.Raw => DecodeRaw(value, result.Message.Key, result.Message.Headers, into),
            MessageFormat.Json => DecodeJson(value, into),
            MessageFormat.OtlpJson => Otlp.OtlpLogsDecoder.DecodeJson(value, into),
            MessageFormat.OtlpProto => Otlp.OtlpLogsDecoder.DecodeProto(value, into),
            _ => $"unsupported format {format}",
        };
    }

    private string? DecodeRaw(byte[] value, byte[]? key, Headers? headers, List<DecodedLine> into)
    {
        if ((headers is null || headers.Count == 0) && key is { Length: > 0 and <= 256 })
        {
            string k = _keys.Intern(key, out _);
            if (!_byKey.TryGetValue(k, out var cached))
            {
                cached = new SourceMetadata { Pod = k };
                if (_byKey.Count < MaxCachedKeys) _byKey[k] = cached;
            }
            SplitLines(value, cached, null, into);
            return null;
        }
        var meta = new SourceMetadata
        {
            Pod = Header(headers, "pod") ?? KeyString(key),
            Host = Header(headers, "host"),
            Container = Header(headers, "container"),
            Namespace = Header(headers, "namespace"),
            Service = Header(headers, "service"),
            Stream = Header(headers, "stream"),
            TraceId = Header(headers, "trace_id"),
            Hlc = Header(headers, "hlc"),
            CiPipelineId = Header(headers, "ci_pipeline_id"),
            SpanId = Header(headers, "span_id"),
        };
        SplitLines(value, meta, null, into);
        return null;
    }

    private string? DecodeJson(byte[] value, List<DecodedLine> into)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(value, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException ex)
        {
            return "invalid JSON envelope: " + ex.Message;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return "JSON envelope is not an object";
            string? message = Find(root, _mapping.Message);
            if (message is null) return "JSON envelope has no message field (" + string.Join(", ", _mapping.Message) + ")";
            var meta = new SourceMetadata
            {
                Pod = Find(root, _mapping.Pod),
                Namespace = Find(root, _mapping.Namespace),
                Container = Find(root, _mapping.Container),
                Host = Find(root, _mapping.Host),
                Service = Find(root, _mapping.Service),
                ServiceVersion = Find(root, _mapping.ServiceVersion),
                Stream = Find(root, _mapping.Stream),
                TraceId = Find(root, _mapping.TraceId),
                Hlc = Find(root, _mapping.Hlc),
                CiPipelineId = Find(root, _mapping.CiPipelineId),
                SpanId = Find(root, _mapping.SpanId),
            };
            DateTimeOffset? ts = null;
            if (Find(root, _mapping.Timestamp) is { } t && DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)) ts = parsed;
            if (Find(root, _mapping.Stack) is { } stack && stack.Contains("\n\t", StringComparison.Ordinal))
            {
                into.Add(new DecodedLine(LoggedRecordLine(Find(root, _mapping.StackMessage) ?? message, Find(root, _mapping.Error), stack), meta, ts));
                return null;
            }
            SplitLines(Encoding.UTF8.GetBytes(message), meta, ts, into);
            return null;
        }
    }

    /// <summary>
    /// One line in zap's own shape (<c>msg</c>, <c>error</c>, <c>stacktrace</c>) for a stack lifted into the envelope,
    /// so the scanner reads it like a record the service wrote: a logged_stack event, not a message cut into lines.
    /// </summary>
    private static byte[] LoggedRecordLine(string message, string? error, string stack)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(stack.Length + message.Length + 64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("msg", message);
            if (error is not null) w.WriteString("error", error);
            w.WriteString("stacktrace", stack);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Splits text on '\n' without copying; one trailing newline (shippers add it) is not an extra line.</summary>
    internal static void SplitLines(byte[] text, SourceMetadata meta, DateTimeOffset? ts, List<DecodedLine> into)
    {
        if (text.Length == 0)
        {
            into.Add(new DecodedLine(ReadOnlyMemory<byte>.Empty, meta, ts));
            return;
        }
        var memory = text.AsMemory();
        // Shippers end "log" with '\n' (docker, Fluent Bit): a trailing newline is not an extra empty line.
        if (memory.Length > 0 && memory.Span[^1] == '\n') memory = memory[..^1];
        while (true)
        {
            int nl = memory.Span.IndexOf((byte)'\n');
            if (nl < 0)
            {
                into.Add(new DecodedLine(memory, meta, ts));
                return;
            }
            into.Add(new DecodedLine(memory[..nl], meta, ts));
            memory = memory[(nl + 1)..];
        }
    }

    private static string? Find(JsonElement root, List<string> paths)
    {
        foreach (string path in paths)
        {
            if (TryPath(root, path, out var v))
            {
                return v.ValueKind switch
                {
                    JsonValueKind.String => v.GetString(),
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
                    _ => null,
                };
            }
        }
        return null;
    }

    /// <summary>"a.b.c" as nested objects, or any split of it into flat dotted keys ("a.b" then "c").</summary>
    private static bool TryPath(JsonElement e, string path, out JsonElement value)
    {
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty(path, out value)) return true;
        int dot = path.IndexOf('.', StringComparison.Ordinal);
        while (dot > 0)
        {
            if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty(path[..dot], out var child) && TryPath(child, path[(dot + 1)..], out value)) return true;
            dot = path.IndexOf('.', dot + 1);
        }
        value = default;
        return false;
    }

    private static string? Header(Headers? headers, string name)
    {
        if (headers is null) return null;
        return headers.TryGetLastBytes(name, out byte[] v) ? Encoding.UTF8.GetString(v) : null;
    }

    private static string? KeyString(byte[]? key) =>
        key is null || key.Length == 0 ? null : Encoding.UTF8.GetString(key, 0, Math.Min(key.Length, 256));
}
