#!/usr/bin/env bash
# Whole-process benchmarks with baselines in the same run, timed in turns (tools/bench/alternate.py).
# Writes inputs and builds under ${BENCH_DIR:-/tmp/ingest-bench}.
#   tools/bench/run.sh            # 1 GB of ordinary logs + a 100,000-goroutine dump of about 60 MB
#   LOG_MB=200 tools/bench/run.sh # smaller
# Needs python3 and GNU time; clang for the native CLI (apt-get install -y clang zlib1g-dev time); Go 1.19 to
# make the real dump, and network for the gostackparse baseline (both skipped without).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${BENCH_DIR:-/tmp/ingest-bench}
log_mb=${LOG_MB:-1000}
mkdir -p "$dir"
cd "$root"
alt="python3 tools/bench/alternate.py"

echo "== build: the JIT executable, ReadyToRun, and the native CLI (-p:IngestCli=true) when clang is there"
dotnet publish src/Ingest -c Release -o "$dir/jit" >/dev/null
dotnet publish src/Ingest -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$dir/r2r" >/dev/null
builds=("$dir/jit/ingest" "$dir/r2r/ingest")
if command -v clang >/dev/null; then
  dotnet publish src/Ingest -c Release -r linux-x64 -p:IngestCli=true -o "$dir/cli" >/dev/null
  builds=("$dir/cli/ingest" "${builds[@]}")
fi
dotnet build tests/Ingest.Benchmarks -c Release >/dev/null
bench="dotnet tests/Ingest.Benchmarks/bin/Release/net10.0/Ingest.Benchmarks.dll"

logs="$dir/logs-${log_mb}m.txt"
[ -f "$logs" ] || $bench gen-logs "$logs" "$log_mb"
dump="$dir/bigdump-100k-deep.txt"
if [ ! -f "$dump" ]; then
  if command -v go >/dev/null; then tools/corpus-gen/gen-bigdump.sh "$dump" 100000 2; else $bench gen-dump "$dump" 100000; fi
fi

echo "== ordinary logs: detection vs grep -c -F 'panic: ' (same file, in turns)"
cmds=("grep -c -F 'panic: ' $logs")
for b in "${builds[@]}"; do cmds+=("$b analyze --json $logs"); done
$alt --rounds 5 --warmup 1 --markdown "${cmds[@]}"

echo "== 100,000-goroutine dump: parse, bucket, findings; baselines wc -l and gostackparse"
cmds=("wc -l $dump")
gsp="$dir/gostackparse-buckets"
if [ ! -x "$gsp" ] && command -v go >/dev/null; then
  (cd tools/bench/gostackparse && go get github.com/DataDog/gostackparse@latest >/dev/null 2>&1 && go build -o "$gsp" .) \
    || echo "(gostackparse could not be fetched: no network for Go modules; that baseline is skipped)"
fi
[ -x "$gsp" ] && cmds+=("$gsp $dump") && "$gsp" "$dump"
for b in "${builds[@]}"; do cmds+=("$b analyze --json --no-raw $dump"); done
$alt --rounds 8 --warmup 1 --markdown "${cmds[@]}"
"${builds[0]}" analyze --json --no-raw "$dump" | python3 -c '
import json,sys
d=json.loads(sys.stdin.readline())
print(f"ingest: goroutines={d[\"goroutine_count\"]} buckets={len(d[\"buckets\"])} states={d[\"states\"]}")'

echo "== in-process single pass (after a warm-up pass)"
$bench measure "$logs"
$bench measure "$dump"

echo "== BenchmarkDotNet (steady state, ratio to the split-only baseline)"
INGEST_BENCH_DUMP="$dump" $bench bdn --filter '*' | grep -E '^\|'
