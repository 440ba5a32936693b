# syntax=docker/dockerfile:1
# Multi-stage build: SDK image compiles, the small runtime image runs `ingest` as a non-root user.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props Ingest.sln ./
COPY src/ src/
RUN dotnet publish src/Ingest/Ingest.csproj -c Release -o /app --no-self-contained

FROM mcr.microsoft.com/dotnet/runtime:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
COPY config/ /app/config/
ENV INGEST_Serve__DataDirectory=/data
USER 65532:65532
ENTRYPOINT ["dotnet", "/app/ingest.dll"]
CMD ["serve"]
