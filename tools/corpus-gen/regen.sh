#!/usr/bin/env bash
# Rebuilds the Go 1.19 corpus in tests/Ingest.GoRuntime.Tests/Corpus/go1.19
# from the programs in this folder. Needs Go (Debian golang-go, 1.19) and gcc;
# no network (the fake service's only dependency is vendored).
#
#   tools/corpus-gen/regen.sh            # from anywhere
#   tools/corpus-gen/regen.sh 01 26      # only files whose name starts with 01 or 26
#
# Build directories are temporary and rewritten in the output to the neutral
# checkout paths /home/dev/src/shop and /srv/build/shop; GOROOT stays as
# printed (/usr/lib/go-1.19). What still differs between runs: addresses,
# pc/fp/sp values, client ports, and run-dependent counts (gctrace lines,
# which writer hits the concurrent map write first). Expectations are rebuilt
# from the text by cmd/expectgen using the hand-written specs/*.json.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$REPO/tests/Ingest.GoRuntime.Tests/Corpus/go1.19"
ONLY=("$@")

command -v go >/dev/null || { echo "regen.sh: go not found (apt-get install golang-go)" >&2; exit 1; }
case "$(go env GOVERSION)" in
  go1.19*) ;;
  *) echo "regen.sh: warning: expected go1.19, have $(go env GOVERSION); output shapes will differ" >&2 ;;
esac

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export GOPROXY=off GOFLAGS= GOWORK=off GO111MODULE=on GOTOOLCHAIN=local

HOME_SRC="$WORK/home/dev/src/shop"   # printed as /home/dev/src/shop
SRV_SRC="$WORK/srv/build/shop"       # printed as /srv/build/shop
BIN="$WORK/bin"
mkdir -p "$HOME_SRC" "$SRV_SRC" "$BIN" "$OUT"
cp -R "$HERE/shop/." "$HOME_SRC/"
cp -R "$HERE/shop/." "$SRV_SRC/"

echo "building into $WORK" >&2
(cd "$HOME_SRC" && CGO_ENABLED=0 go build -mod=vendor -o "$BIN/shopd" ./cmd/shopd)
(cd "$HOME_SRC" && CGO_ENABLED=0 go build -mod=vendor -gcflags=all=-d=checkptr -o "$BIN/shopd-checkptr" ./cmd/shopd)
(cd "$HOME_SRC" && CGO_ENABLED=0 go build -mod=vendor -trimpath -o "$BIN/shopd-trim" ./cmd/shopd)
(cd "$HOME_SRC" && CGO_ENABLED=1 go build -mod=vendor -o "$BIN/shop-native" ./cmd/shop-native)
(cd "$SRV_SRC" && CGO_ENABLED=0 go build -mod=vendor -o "$BIN/shopd-srv" ./cmd/shopd)
(cd "$HERE" && CGO_ENABLED=0 go build -mod=mod -o "$BIN/expectgen" ./cmd/expectgen)

GOVER="$(go env GOVERSION) $(go env GOOS)/$(go env GOARCH)"

want() { # want NAME -> true when NAME is selected on the command line
  [ ${#ONLY[@]} -eq 0 ] && return 0
  local p; for p in "${ONLY[@]}"; do [[ "$1" == "$p"* ]] && return 0; done
  return 1
}

neutral() { # neutral RAW DEST: rewrite machine paths
  sed -e "s|$HOME_SRC|/home/dev/src/shop|g" -e "s|$SRV_SRC|/srv/build/shop|g" -e "s|$WORK|/tmp/build|g" "$1" >"$2"
}

SOURCES=()
finish() { # finish NAME SOURCE
  local name="$1" src="$2"
  neutral "$WORK/$name.raw" "$OUT/$name.txt"
  "$BIN/expectgen" -spec "$HERE/specs/$name.json" -txt "$OUT/$name.txt" \
    -source "$GOVER; tools/corpus-gen: $src" -out "$OUT/$name.expect.json"
  local size; size=$(wc -c <"$OUT/$name.txt")
  if [ "$size" -gt 300000 ]; then echo "regen.sh: warning: $name.txt is $size bytes" >&2; fi
  printf '%-40s %7d bytes\n' "$name" "$size" >&2
}

run() { # run NAME EXPECTED_RC SOURCE -- ENV... CMD...   (stdout+stderr to one file, in write order)
  local name="$1" rc_want="$2" src="$3"; shift 4
  want "$name" || return 0
  local rc=0
  (cd "$WORK" && env "$@" >"$WORK/$name.raw" 2>&1) || rc=$?
  if [ "$rc" != "$rc_want" ]; then echo "regen.sh: $name exited $rc, expected $rc_want" >&2; cat "$WORK/$name.raw" >&2; exit 1; fi
  finish "$name" "$src"
}

quit_when_ready() { # quit_when_ready NAME SOURCE -- ENV... CMD...: SIGQUIT once the log says ready
  local name="$1" src="$2"; shift 3
  want "$name" || return 0
  (cd "$WORK" && exec env "$@" >"$WORK/$name.raw" 2>&1) &
  local pid=$! i
  for i in $(seq 1 200); do
    grep -q 'msg=ready' "$WORK/$name.raw" 2>/dev/null && break
    sleep 0.05
  done
  sleep 0.2
  kill -QUIT "$pid"
  local rc=0; wait "$pid" || rc=$?
  if [ "$rc" != 2 ]; then echo "regen.sh: $name exited $rc after SIGQUIT" >&2; cat "$WORK/$name.raw" >&2; exit 1; fi
  finish "$name" "$src"
}

# Drop previously generated files (only those this script owns) when doing a full run.
if [ ${#ONLY[@]} -eq 0 ]; then
  rm -f "$OUT"/[0-9][0-9]-*.txt "$OUT"/[0-9][0-9]-*.expect.json
fi

G1=(GOMAXPROCS=1 GOTRACEBACK=all)
S="shop cmd/shopd built in /home/dev/src/shop (CGO_ENABLED=0 go build -mod=vendor)"

simple() { # simple NAME SCENARIO [ARGS...]
  local name="$1" sc="$2"; shift 2
  run "$name" 2 "$S; GOMAXPROCS=1 GOTRACEBACK=all shopd -scenario $sc${*:+ $*}" -- "${G1[@]}" "$BIN/shopd" -scenario "$sc" "$@"
}

simple 01-nil-pointer-dereference nilderef -idle 0
simple 02-index-out-of-range index
simple 03-slice-bounds-out-of-range slicebounds
simple 04-nil-map-assignment nilmap
simple 05-integer-divide-by-zero divzero
simple 06-type-assertion typeassert
simple 07-send-on-closed-channel sendclosed
simple 08-close-of-closed-channel closeclosed
simple 09-negative-waitgroup negwg
simple 10-unlock-of-unlocked-mutex unlock
simple 11-custom-panic-error panicerr
simple 12-custom-panic-sprintf panicsprintf
simple 13-deadlock deadlock
run 14-concurrent-map-writes 2 "$S; GOMAXPROCS=2 GOTRACEBACK=all shopd -scenario mapwrites" \
  -- GOMAXPROCS=2 GOTRACEBACK=all "$BIN/shopd" -scenario mapwrites
simple 15-stack-overflow stackoverflow
run 16-out-of-memory 2 "$S; (ulimit -v 1048576; GOMAXPROCS=1 GOTRACEBACK=all shopd -scenario oom)" \
  -- "${G1[@]}" bash -c 'ulimit -v 1048576 && exec "$0" -scenario oom' "$BIN/shopd"
run 17-unexpected-signal-cgo-segv 2 "shop cmd/shop-native (cgo, CGO_ENABLED=1 go build -mod=vendor) in /home/dev/src/shop; GOMAXPROCS=1 GOTRACEBACK=all shop-native -scenario cgo-segv" \
  -- "${G1[@]}" "$BIN/shop-native" -scenario cgo-segv
run 18-cgo-abort 2 "shop cmd/shop-native (cgo, CGO_ENABLED=1 go build -mod=vendor) in /home/dev/src/shop; GOMAXPROCS=1 GOTRACEBACK=all shop-native -scenario cgo-abort" \
  -- "${G1[@]}" "$BIN/shop-native" -scenario cgo-abort
run 19-unsafe-pointer-checkptr 2 "shop cmd/shopd built with -gcflags=all=-d=checkptr in /home/dev/src/shop; GOMAXPROCS=1 GOTRACEBACK=all shopd -scenario checkptr" \
  -- "${G1[@]}" "$BIN/shopd-checkptr" -scenario checkptr
simple 20-recovered-repanic repanic
run 21-http-panic-serving 0 "$S; GOMAXPROCS=1 GOTRACEBACK=all shopd -scenario httppanic (net/http server on 127.0.0.1:0 and client in one process)" \
  -- "${G1[@]}" "$BIN/shopd" -scenario httppanic

if want 22-panic-between-log-lines; then
  name=22-panic-between-log-lines
  rc=0; (cd "$WORK" && env "${G1[@]}" "$BIN/shopd" -scenario logs >"$WORK/$name.raw" 2>&1) || rc=$?
  [ "$rc" = 2 ] || { echo "regen.sh: $name exited $rc" >&2; exit 1; }
  (cd "$WORK" && env "${G1[@]}" "$BIN/shopd" -scenario logs-restart >>"$WORK/$name.raw" 2>&1)
  finish "$name" "$S; GOMAXPROCS=1 GOTRACEBACK=all shopd -scenario logs (exits 2), then shopd -scenario logs-restart appended (the restarted process)"
fi

run 23-fp-nil-deref-srv-checkout 2 "shop cmd/shopd built in /srv/build/shop (CGO_ENABLED=0 go build -mod=vendor); GOMAXPROCS=1 GOTRACEBACK=all shopd -scenario nilderef -idle 5" \
  -- "${G1[@]}" "$BIN/shopd-srv" -scenario nilderef -idle 5
run 24-fp-nil-deref-trimpath 2 "shop cmd/shopd built with -trimpath (CGO_ENABLED=0 go build -mod=vendor -trimpath); GOMAXPROCS=1 GOTRACEBACK=all shopd -scenario nilderef -idle 12" \
  -- "${G1[@]}" "$BIN/shopd-trim" -scenario nilderef -idle 12
simple 25-fp-index-same-function fp-index -idle 3

quit_when_ready 26-sigquit-dump "$S; GOMAXPROCS=1 GOTRACEBACK=all shopd -scenario sigquit, then kill -QUIT once it logs msg=ready" \
  -- "${G1[@]}" "$BIN/shopd" -scenario sigquit
run 27-runtime-stack-dump 0 "$S; GOMAXPROCS=1 shopd -scenario stackdump (runtime.Stack(buf, true) to stderr)" \
  -- GOMAXPROCS=1 "$BIN/shopd" -scenario stackdump
run 28-pprof-goroutine-debug2 0 "$S; GOMAXPROCS=1 shopd -scenario pprofdump (fetches /debug/pprof/goroutine?debug=2 from itself, writes the body to stderr)" \
  -- GOMAXPROCS=1 "$BIN/shopd" -scenario pprofdump
run 29-goroutine-leak-4-snapshots 0 "$S; GOMAXPROCS=1 shopd -scenario leak (4 x /debug/pprof/goroutine?debug=2 to stderr, 10 leaked subscriptions per round)" \
  -- GOMAXPROCS=1 "$BIN/shopd" -scenario leak
quit_when_ready 30-mutex-convoy-sigquit "$S; GOMAXPROCS=1 GOTRACEBACK=all shopd -scenario convoy -n 200, then kill -QUIT once it logs msg=ready" \
  -- "${G1[@]}" "$BIN/shopd" -scenario convoy -n 200
run 31-gctrace 0 "$S; GOMAXPROCS=4 GODEBUG=gctrace=1 shopd -scenario gcload" \
  -- GOMAXPROCS=4 GODEBUG=gctrace=1 "$BIN/shopd" -scenario gcload
if want 32-gctrace-logger-prefix; then
  name=32-gctrace-logger-prefix
  (cd "$WORK" && GOMAXPROCS=4 GODEBUG=gctrace=1 "$BIN/shopd" -scenario gcload 2>&1 \
     | sed -u 's/^/2024-05-01T10:00:00.000Z pod=shop-7f9 /' >"$WORK/$name.raw")
  finish "$name" "$S; GOMAXPROCS=4 GODEBUG=gctrace=1 shopd -scenario gcload 2>&1 | sed 's/^/2024-05-01T10:00:00.000Z pod=shop-7f9 /'"
fi
if want 33-semantic-tags-panic; then
  name=33-semantic-tags-panic
  rc=0; (cd "$WORK" && env "${G1[@]}" "$BIN/shopd" -scenario tags >"$WORK/$name.raw" 2>&1) || rc=$?
  [ "$rc" = 2 ] || { echo "regen.sh: $name exited $rc" >&2; exit 1; }
  (cd "$WORK" && env "${G1[@]}" "$BIN/shopd" -scenario tags-restart >>"$WORK/$name.raw" 2>&1)
  finish "$name" "$S; GOMAXPROCS=1 GOTRACEBACK=all shopd -scenario tags (exits 2), then shopd -scenario tags-restart appended (the restarted process)"
fi

# Nothing machine-specific may survive.
if grep -rl -e "$WORK" -e "/work/" -e "/tmp/" "$OUT"/*.txt >/dev/null 2>&1; then
  echo "regen.sh: machine path left in:" >&2
  grep -rl -e "$WORK" -e "/work/" -e "/tmp/" "$OUT"/*.txt >&2
  exit 1
fi
echo "done: $OUT" >&2
