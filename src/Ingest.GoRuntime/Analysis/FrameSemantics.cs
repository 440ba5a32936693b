using Ingest.GoRuntime.Model;

namespace Ingest.GoRuntime.Analysis;

/// <summary>Token → label tables for inferring a frame's layer and intent; configurable.</summary>
public sealed class FrameSemanticsOptions
{
    /// <summary>Layer → tokens matched against package path elements (case-insensitive, element or element prefix).</summary>
    public Dictionary<string, string[]> Layers { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["app"] = ["api", "handler", "handlers", "http", "httpapi", "controller", "controllers", "rest", "web", "grpc", "server", "router", "routes", "cmd", "main"],
        ["service"] = ["service", "services", "svc", "usecase", "usecases", "domain", "core", "biz", "logic", "app"],
        ["dao"] = ["store", "stores", "repo", "repos", "repository", "dao", "db", "persistence", "storage", "model", "models", "cache", "orm"],
        ["infra"] = ["database", "sql", "driver", "net", "pq", "pgx", "mysql", "redis", "mongo", "kafka", "syscall", "os", "io", "bufio", "crypto", "runtime", "sync", "internal"],
    };

    /// <summary>Intent → prefixes of the method name (case-sensitive Go names: "Get", "FindByID").</summary>
    public Dictionary<string, string[]> Intents { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["read"] = ["Get", "Find", "Load", "List", "Read", "Fetch", "Query", "Select", "Scan", "Lookup", "Search", "get", "find", "load", "list", "read", "fetch", "query"],
        ["write"] = ["Save", "Insert", "Update", "Delete", "Write", "Create", "Put", "Set", "Store", "Remove", "Upsert", "Exec", "save", "insert", "update", "delete", "write", "create", "put"],
        ["validate"] = ["Validate", "Check", "Verify", "Ensure", "validate", "check", "verify"],
        ["retry"] = ["Retry", "Backoff", "retry", "backoff", "withRetry"],
    };
}

/// <summary>Fuzzy layer/intent inference for stack frames (marked inferred), cached per function name.</summary>
public sealed class FrameSemantics(FrameSemanticsOptions options)
{
    public const string Unknown = "unknown";
    private readonly Dictionary<string, SemanticLabel> _cache = new(StringComparer.Ordinal);

    public SemanticLabel Classify(string function)
    {
        if (_cache.TryGetValue(function, out var label)) return label;
        label = new SemanticLabel(LayerOf(function), IntentOf(function), Inferred: true);
        if (_cache.Count < 20_000) _cache[function] = label;
        return label;
    }

    private string LayerOf(string function)
    {
        string pkg = GoNames.PackageOf(function);
        bool std = GoNames.IsStandardLibrary(pkg);
        // The standard library (net/http plumbing included) is infrastructure; the service's own "http" package is app.
        if (std) return "infra";
        string[] elements = pkg.Split('/');
        // Innermost package element wins ("shop/internal/service/store" is dao).
        for (int i = elements.Length - 1; i >= 0; i--)
        {
            // The best match wins, not the first: an exact token over a prefix, a longer prefix over a shorter,
            // then the layer name. Configuration binding orders a table's keys by name, so the outcome must not
            // depend on the order the table lists its layers in.
            string e = elements[i];
            string? best = null;
            int bestScore = 0;
            foreach (var (layer, tokens) in options.Layers)
            {
                foreach (string t in tokens)
                {
                    int score = e.Equals(t, StringComparison.OrdinalIgnoreCase) ? 1000 + t.Length
                        : t.Length >= 4 && e.StartsWith(t, StringComparison.OrdinalIgnoreCase) ? t.Length : 0;
                    if (score > bestScore || (score == bestScore && score > 0 && string.CompareOrdinal(layer, best) < 0))
                    {
                        (best, bestScore) = (layer, score);
                    }
                }
            }
            if (best is not null) return best;
        }
        string shortName = GoNames.ShortName(function);
        if (shortName.Contains("Handler", StringComparison.Ordinal) || shortName.Contains("ServeHTTP", StringComparison.Ordinal)) return "app";
        return Unknown;
    }

    private string IntentOf(string function)
    {
        // Method name: last element after '.', skipping closure suffixes (func1, gowrap1).
        string shortName = GoNames.ShortName(function);
        string[] parts = shortName.Split('.');
        for (int i = parts.Length - 1; i >= 0; i--)
        {
            string p = parts[i].TrimStart('(', '*').TrimEnd(')');
            if (p.Length == 0 || IsClosureSuffix(p)) continue;
            // The longest prefix wins (then the intent's name), whatever order the table lists them in.
            string? best = null;
            int bestLength = 0;
            foreach (var (intent, prefixes) in options.Intents)
            {
                foreach (string pre in prefixes)
                {
                    if (p.StartsWith(pre, StringComparison.Ordinal) && (pre.Length > bestLength || (pre.Length == bestLength && string.CompareOrdinal(intent, best) < 0)))
                    {
                        (best, bestLength) = (intent, pre.Length);
                    }
                }
            }
            if (best is not null) return best;
            break;
        }
        return Unknown;
    }

    private static bool IsClosureSuffix(string p) =>
        (p.StartsWith("func", StringComparison.Ordinal) && p.Length > 4 && char.IsAsciiDigit(p[4])) ||
        p.StartsWith("gowrap", StringComparison.Ordinal) || (p.Length > 0 && char.IsAsciiDigit(p[0]));
}
