using System.Text.Json;
using Ingest.GoRuntime.Model;

namespace Ingest.Pipeline.Model;

/// <summary>
/// A document a stage derives (a GC alert episode, an incident, the dependency graph) rather than one the scanner
/// read: positioned like a runtime event so the sinks store both alike, and writing its own fields, since the
/// runtime model's writer knows only runtime output.
/// </summary>
public abstract class DerivedEvent : RuntimeEvent
{
    /// <summary>Writes the type's fields after the common ones (type, stream, position).</summary>
    public abstract void WriteFields(Utf8JsonWriter w);
}
