#!/usr/bin/env bash
# Rebuilds tests/Ingest.GoRuntime.Tests/Corpus/go1.19-detection (issue 18: racing throwers, read-lock
# contention, tracebackancestors, stacks inside zap/logrus records) with Debian's Go 1.19. The tests
# there assert exact events by hand (DetectionCorpusTests), so there is no expectgen step.
#
#   tools/corpus-gen/regen-detection.sh          # needs golang-go; for the logs also
#                                                 # golang-go.uber-zap-dev golang-github-sirupsen-logrus-dev
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$REPO/tests/Ingest.GoRuntime.Tests/Corpus/go1.19-detection"
command -v go >/dev/null || { echo "regen-detection.sh: go not found (apt-get install golang-go)" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
SRC="$WORK/home/dev/src/shop"   # printed as /home/dev/src/shop, as in regen.sh
BIN="$WORK/bin"
mkdir -p "$SRC" "$BIN" "$OUT"
cp -R "$HERE/shop/." "$SRC/"
(cd "$SRC" && GOPROXY=off GOFLAGS= GOWORK=off GO111MODULE=on CGO_ENABLED=0 go build -mod=vendor -o "$BIN/shopd" ./cmd/shopd)

neutral() { sed -e "s|$SRC|/home/dev/src/shop|g" -e "s|$WORK|/tmp/build|g" "$1" >"$2"; }

# Which goroutine headers a crash printed, in order, ids replaced by first appearance: tells orderings apart.
shape() {
  awk '/^fatal error/{printf "F "} /^goroutine/{id=$2; if (id in seen) printf "dup:%s ", $3; else {seen[id]=1; printf "%s ", $3}} /stack unavailable/{printf "U "}' "$1"
}

# 1. Two writers throwing "concurrent map writes" at once: run until several distinct orderings are seen.
rm -f "$OUT"/racing-throwers-*.txt
declare -A SEEN=()
kept=0
for i in $(seq 1 400); do
  rc=0; GOMAXPROCS=2 GOTRACEBACK=all "$BIN/shopd" -scenario mapwrites >"$WORK/mw.raw" 2>&1 || rc=$?
  [ "$rc" = 2 ] || { echo "regen-detection.sh: mapwrites exited $rc" >&2; exit 1; }
  [ "$(grep -c '^fatal error: concurrent map writes' "$WORK/mw.raw")" -ge 2 ] || continue
  s="$(shape "$WORK/mw.raw")"
  [ -z "${SEEN[$s]:-}" ] || continue
  SEEN[$s]=1
  kept=$((kept + 1))
  neutral "$WORK/mw.raw" "$OUT/racing-throwers-$kept.txt"
  echo "racing-throwers-$kept: $s" >&2
  [ "$kept" -lt 4 ] || break
done
[ "$kept" -ge 2 ] || { echo "regen-detection.sh: only $kept racing orderings in 400 runs" >&2; exit 1; }

# 2. Read-lock contention: printed by a panic (no runtime frames, so no lock address) and by SIGQUIT.
rc=0; GOMAXPROCS=1 GOTRACEBACK=all "$BIN/shopd" -scenario rwconvoy-panic >"$WORK/rw.raw" 2>&1 || rc=$?
[ "$rc" = 2 ] || { echo "regen-detection.sh: rwconvoy-panic exited $rc" >&2; exit 1; }
neutral "$WORK/rw.raw" "$OUT/rwmutex-contention-panic.txt"
(GOMAXPROCS=1 GOTRACEBACK=all exec "$BIN/shopd" -scenario rwconvoy >"$WORK/rwq.raw" 2>&1) &
pid=$!
for _ in $(seq 1 200); do grep -q 'msg=ready' "$WORK/rwq.raw" 2>/dev/null && break; sleep 0.05; done
sleep 0.2
kill -QUIT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 2 ] || { echo "regen-detection.sh: rwconvoy exited $rc after SIGQUIT" >&2; exit 1; }
neutral "$WORK/rwq.raw" "$OUT/rwmutex-contention-sigquit.txt"

# 4. GODEBUG=tracebackancestors: a crash two goroutine generations below main.
rc=0; GOMAXPROCS=1 GOTRACEBACK=all GODEBUG=tracebackancestors=10 "$BIN/shopd" -scenario ancestors >"$WORK/anc.raw" 2>&1 || rc=$?
[ "$rc" = 2 ] || { echo "regen-detection.sh: ancestors exited $rc" >&2; exit 1; }
neutral "$WORK/anc.raw" "$OUT/traceback-ancestors.txt"

# 6. Stacks inside structured logs: zap and logrus records from Debian's packages, GOPATH mode.
GP="$WORK/gopath"   # printed as /home/dev/go
mkdir -p "$GP/src/example.com"
cp -R "$HERE/structlog" "$GP/src/example.com/structlog"
(cd "$GP/src/example.com/structlog" && GO111MODULE=off GOPATH="$GP:/usr/share/gocode" GOFLAGS= CGO_ENABLED=0 go build -o "$BIN/structlog" .)
"$BIN/structlog" >"$WORK/sl.raw" 2>&1
sed -e "s|$GP|/home/dev/go|g" "$WORK/sl.raw" >"$OUT/structured-log-stacks.txt"

if grep -l -e "$WORK" -e "/work/" "$OUT"/*.txt; then echo "regen-detection.sh: machine path left" >&2; exit 1; fi
echo "done: $OUT" >&2
