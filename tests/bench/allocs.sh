#!/usr/bin/env bash
# Heap allocations per token request at default settings (access and audit log on, both
# in-process limits on): the server runs with tests/bench/alloc_count.c preloaded, which counts
# malloc/calloc/realloc, the aligned allocations (Asio's coroutine frames) and frees; the totals
# are read before and after a fixed wrk run and divided by the requests it completed.
# Usage: bash tests/bench/allocs.sh [binary...]   (default: build/release/streamgate)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d /tmp/sg-allocs-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
# shellcheck source=lib.sh
. tests/bench/lib.sh
[ $# -gt 0 ] || set -- build/release/streamgate
cc -O2 -shared -fPIC -o "$WORK/alloc_count.so" tests/bench/alloc_count.c

export STREAM_API_KEY=bench-key STREAM_API_SECRET=bench-stream-secret-0123456789abcdef
export AUTH_JWT_SECRET=bench-app-secret-0123456789abcdef
BENCH_JWT=$(env -u PORT "$1" mint-dev-jwt --env-file /dev/null --sub bench-user --ttl 86400)
export BENCH_JWT

echo "| build | requests | allocations/request | aligned/request | frees/request |"
echo "| --- | --- | --- | --- | --- |"
for bin in "$@"; do
  env LD_PRELOAD="$WORK/alloc_count.so" PORT=18095 LISTEN_ADDRESS=127.0.0.1 HTTP_THREADS=2 \
    LOG_LEVEL=info RATE_LIMIT_USER_PER_MINUTE=100000000 RATE_LIMIT_IP_PER_MINUTE=100000000 \
    "$bin" --env-file /dev/null 2> "$WORK/server.err" > /dev/null &
  pid=$!
  wait_port 18095
  url=http://127.0.0.1:18095/api/v1/stream/token
  wrk -t2 -c64 -d2s -s tests/bench/token.lua "$url" > /dev/null  # warm-up
  kill -USR2 "$pid"; sleep 0.2
  wrk -t2 -c64 -d5s -s tests/bench/token.lua "$url" > "$WORK/wrk.txt"
  sleep 0.2; kill -USR2 "$pid"; sleep 0.2
  kill -TERM "$pid"; wait "$pid" || true
  if grep -q Non-2xx "$WORK/wrk.txt"; then echo "$bin: non-2xx answers" >&2; exit 1; fi
  requests=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
  grep '^ALLOCS' "$WORK/server.err" | tail -2 | tr '=' ' ' | awk -v n="$requests" -v b="$bin" '
    NR == 1 { a = $3; g = $5; f = $7 }
    NR == 2 { printf "| %s | %d | %.1f | %.1f | %.1f |\n", b, n, ($3 - a) / n, ($5 - g) / n, ($7 - f) / n }'
done
