using System.Text.Json;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Serialization;

namespace Ingest.GoRuntime.Tests.Support;

public static class EventJson
{
    public static string Serialize(IEnumerable<RuntimeEvent> events)
    {
        var writer = new EventJsonWriter();
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, EventJsonWriter.WriterOptions))
        {
            w.WriteStartArray();
            foreach (var e in events) writer.Write(w, e);
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }
}
