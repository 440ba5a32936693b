namespace Ingest.Pipeline.Sources.Kafka.Decoding.Otlp;

/// <summary>
/// A minimal protobuf wire-format reader over a span: varints, fixed32/64 and length-delimited fields, with
/// every length checked against what is left. Malformed input throws <see cref="FormatException"/>, which the
/// decoder turns into a dead letter. Kept over Google.Protobuf with Grpc.Tools-generated OTLP types on measurement
/// (tests/Ingest.Benchmarks OtlpDecodeBenchmarks, the OpenTelemetry .NET SDK's captured bodies, both decoding to
/// the same span records and lines): the hand reader takes 0.49–0.72× the time and 0.61–0.72× the allocations
/// (64 requests: traces 83 µs / 459 KB against 151 µs / 638 KB, logs 0.80 ms / 1.36 MB against 1.64 ms / 2.19 MB),
/// because it skips what Ingest does not use instead of materialising every message.
/// </summary>
public ref struct ProtoReader(ReadOnlySpan<byte> data)
{
    private ReadOnlySpan<byte> _data = data;

    public readonly bool End => _data.IsEmpty;

    /// <summary>Next field number and wire type.</summary>
    public (int Field, int WireType) ReadTag()
    {
        ulong tag = ReadVarint();
        int field = (int)(tag >> 3);
        if (field <= 0) throw new FormatException("protobuf: invalid field number");
        return (field, (int)(tag & 7));
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0, i = 0; i < 10; i++, shift += 7)
        {
            if (i >= _data.Length) throw new FormatException("protobuf: truncated varint");
            byte b = _data[i];
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                _data = _data[(i + 1)..];
                return result;
            }
        }
        throw new FormatException("protobuf: varint too long");
    }

    public ulong ReadFixed64()
    {
        if (_data.Length < 8) throw new FormatException("protobuf: truncated fixed64");
        ulong v = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(_data);
        _data = _data[8..];
        return v;
    }

    public uint ReadFixed32()
    {
        if (_data.Length < 4) throw new FormatException("protobuf: truncated fixed32");
        uint v = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(_data);
        _data = _data[4..];
        return v;
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        ulong len = ReadVarint();
        if (len > (ulong)_data.Length) throw new FormatException("protobuf: length past the end of the message");
        var v = _data[..(int)len];
        _data = _data[(int)len..];
        return v;
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0: ReadVarint(); break;
            case 1: ReadFixed64(); break;
            case 2: ReadBytes(); break;
            case 5: ReadFixed32(); break;
            default: throw new FormatException($"protobuf: unsupported wire type {wireType}");
        }
    }
}

/// <summary>Handles one length-delimited field's bytes.</summary>
public delegate void ProtoFieldHandler<in T>(ReadOnlySpan<byte> data, T state);

public static class ProtoMessages
{
    /// <summary>A protobuf trace or span id as lowercase hex; empty or all-zero (invalid in OTLP) means none.</summary>
    internal static string? Id(ReadOnlySpan<byte> id) => id.IsEmpty || !id.ContainsAnyExcept((byte)0) ? null : Convert.ToHexStringLower(id);

    /// <summary>An OTLP/JSON id (hex, either case) as lowercase hex, so it matches the protobuf form; empty, all-zero or not hex means none.</summary>
    internal static string? Id(string? hex) => string.IsNullOrEmpty(hex) || hex.All(c => c == '0') || !hex.All(char.IsAsciiHexDigit) ? null : hex.ToLowerInvariant();

    /// <summary>
    /// Parses an OTLP/JSON export request and finds its top-level array (resourceLogs, resourceSpans): the
    /// document (to dispose) or the reason it is not one.
    /// </summary>
    public static string? ParseJson(ReadOnlySpan<byte> message, string arrayName, out System.Text.Json.JsonDocument? doc, out System.Text.Json.JsonElement array)
    {
        array = default;
        try
        {
            var reader = new System.Text.Json.Utf8JsonReader(message, new System.Text.Json.JsonReaderOptions { MaxDepth = 64 });
            doc = System.Text.Json.JsonDocument.ParseValue(ref reader);
        }
        catch (System.Text.Json.JsonException ex)
        {
            doc = null;
            return "invalid OTLP JSON: " + ex.Message;
        }
        if (!doc.RootElement.TryGetProperty(arrayName, out array) || array.ValueKind != System.Text.Json.JsonValueKind.Array)
        {
            doc.Dispose();
            doc = null;
            return $"OTLP JSON has no {arrayName} array";
        }
        return null;
    }

    /// <summary>
    /// Reads an OTLP export request: every occurrence of field 1 (resource_logs, resource_spans) goes to the
    /// handler; a malformed message is the reason returned (for the dead-letter topic), never an exception.
    /// </summary>
    public static string? ForEachResource<T>(ReadOnlySpan<byte> message, T state, ProtoFieldHandler<T> handler)
    {
        try
        {
            var r = new ProtoReader(message);
            while (!r.End)
            {
                var (field, wire) = r.ReadTag();
                if (field == 1 && wire == 2) handler(r.ReadBytes(), state);
                else r.Skip(wire);
            }
            return null;
        }
        catch (FormatException ex)
        {
            return "invalid OTLP protobuf: " + ex.Message;
        }
    }
}
