using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Ingest.Api;

/// <summary>
/// The loopback rule decided from what Kestrel actually bound, whatever set it (Serve:Urls, Kestrel:Endpoints,
/// ASPNETCORE_URLS, --urls): a configured address is only one of those sources. Until the bound addresses are
/// checked every request is answered 503, so nothing is served in the moment between binding and checking.
/// </summary>
public sealed class BindGuard
{
    private volatile bool _open;

    /// <summary>The addresses Kestrel bound (after start).</summary>
    public static IReadOnlyList<string> BoundAddresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    /// <summary>First in the pipeline: nothing answers before <see cref="Check"/> allowed it.</summary>
    public void Install(WebApplication app) => app.Use(async (context, next) =>
    {
        if (!_open)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }
        await next(context).ConfigureAwait(false);
    });

    /// <summary>Null when serving may begin; otherwise the reason to refuse.</summary>
    public string? Check(IReadOnlyList<string> bound, bool hasToken)
    {
        var open = bound.Where(a => !IsLoopback(a)).ToList();
        if (open.Count > 0 && !hasToken)
        {
            return $"the API is bound beyond loopback ({string.Join(", ", open)}) without a token: set Serve:ApiToken " +
                   "(a bearer token, from a secret: INGEST_Serve__ApiToken) or bind loopback only (Serve:Urls, Kestrel:Endpoints, ASPNETCORE_URLS, --urls)";
        }
        _open = true;
        return null;
    }

    /// <summary>Loopback addresses, localhost and Unix sockets; any other host (0.0.0.0, [::], *, a name) is not.</summary>
    public static bool IsLoopback(string address)
    {
        if (address.StartsWith("http://unix:", StringComparison.OrdinalIgnoreCase) || address.StartsWith("https://unix:", StringComparison.OrdinalIgnoreCase)) return true;
        if (!BindingAddressHost(address, out string host)) return false;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);
    }

    private static bool BindingAddressHost(string address, out string host)
    {
        host = string.Empty;
        int scheme = address.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return false;
        string rest = address[(scheme + 3)..];
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0) rest = rest[..slash];
        int colon = rest.StartsWith('[') ? rest.IndexOf("]:", StringComparison.Ordinal) + 1 : rest.LastIndexOf(':');
        host = colon > 0 ? rest[..colon] : rest;
        return host.Length > 0;
    }
}
