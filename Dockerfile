# syntax=docker/dockerfile:1
# Multi-stage build: the SDK image compiles; the small ASP.NET runtime image (the worker serves HTTP) runs
# `ingest serve` as a non-root user. Read-only root filesystem friendly: the only writable path is /data
# (the embedded store), a volume; everything else is configuration through INGEST_* variables.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# ReadyToRun, chosen on measurement (docs/performance.md, "Which build ships"): against the JIT build the worker
# is serving in 321 ms instead of 412, each HEALTHCHECK run costs 44 ms instead of 72, and the pipeline keeps
# the same throughput (93 % of a bare consumer). Native AOT is the offline CLI's build, not the worker's.
ARG TARGETARCH=amd64
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props Ingest.sln ./
COPY src/ src/
RUN dotnet publish src/Ingest/Ingest.csproj -c Release -a "$TARGETARCH" --no-self-contained -p:PublishReadyToRun=true -o /app \
    && mkdir -p /data-dir

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
COPY config/ /app/config/
# /data owned by the runtime user, so a named volume mounted there is writable without root.
COPY --from=build --chown=65532:65532 /data-dir /data
ENV INGEST_Serve__DataDirectory=/data \
    DOTNET_gcServer=1 \
    DOTNET_EnableDiagnostics=0
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["dotnet", "/app/ingest.dll", "health"]
ENTRYPOINT ["dotnet", "/app/ingest.dll"]
CMD ["serve"]
