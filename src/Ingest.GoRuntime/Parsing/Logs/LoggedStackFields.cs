namespace Ingest.GoRuntime.Parsing.Logs;

/// <summary>
/// Where a structured log record (one JSON object per line) keeps its message, error text and Go stack:
/// candidate paths, first present wins; dotted paths match nested objects and flat dotted keys alike.
/// Defaults cover zap (<c>msg</c>, <c>error</c>, <c>stacktrace</c>, <c>zap.Stack("stack")</c>), logrus
/// (<c>msg</c>, <c>error</c>, a <c>stack</c> field), slog (<c>msg</c>, <c>err</c>) and ECS (<c>message</c>,
/// <c>error.message</c>, <c>error.stack_trace</c>).
/// </summary>
public sealed class LoggedStackFields
{
    public List<string> Message { get; set; } = ["msg", "message"];
    public List<string> Error { get; set; } = ["error", "err", "panic", "error.message"];
    public List<string> Stack { get; set; } = ["stacktrace", "stack", "error.stack_trace", "stack_trace"];
}
