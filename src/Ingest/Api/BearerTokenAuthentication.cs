using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ingest.Api;

public sealed class BearerTokenOptions : AuthenticationSchemeOptions
{
    /// <summary>The one token the API accepts (Serve:ApiToken).</summary>
    public string Token { get; set; } = string.Empty;
}

/// <summary>
/// A static bearer token as an ASP.NET Core authentication scheme: the API's route group requires an
/// authenticated caller, so the check follows routing (whatever the case or encoding of the path) instead of
/// a middleware's own path comparison. <c>AddBearerToken</c> is not this: it issues and reads its own
/// data-protected tokens, not an operator's secret.
/// </summary>
public sealed class BearerTokenHandler(IOptionsMonitor<BearerTokenOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<BearerTokenOptions>(options, logger, encoder)
{
    public const string SchemeName = "IngestBearer";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return Task.FromResult(AuthenticateResult.NoResult());
        if (!Matches(header.AsSpan(7).Trim(), Options.Token)) return Task.FromResult(AuthenticateResult.Fail("invalid bearer token"));
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "api-client")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }

    /// <summary>Constant time in the content and the length: both sides are hashed to 32 bytes before comparing.</summary>
    internal static bool Matches(ReadOnlySpan<char> given, string expected)
    {
        Span<byte> a = stackalloc byte[32], b = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(given.ToArray()), a);
        SHA256.HashData(Encoding.UTF8.GetBytes(expected), b);
        return CryptographicOperations.FixedTimeEquals(a, b) && expected.Length > 0;
    }
}
