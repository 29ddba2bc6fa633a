#!/usr/bin/env bash
# Token-endpoint benchmark: wrk (64 connections, 2 threads) against the release streamgate,
# the seed's Express implementation and nginx's static 200, one after the other on this
# machine. Prints a Markdown table; raw wrk output goes to tests/bench/results/.
# Usage: bash tests/bench/run.sh [duration-seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-15}"
CONNS=64
OUT=tests/bench/results
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/sg-bench-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true; rm -rf "$WORK"' EXIT

cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
BIN=./build/release/streamgate
if [ ! -d tests/bench/express/node_modules ]; then (cd tests/bench/express && npm ci --no-audit --no-fund >/dev/null); fi

export STREAM_API_KEY=bench-key STREAM_API_SECRET=bench-stream-secret-0123456789abcdef
export AUTH_JWT_SECRET=bench-app-secret-0123456789abcdef
export BENCH_JWT=$(env -u PORT $BIN mint-dev-jwt --env-file /dev/null --sub bench-user --ttl 86400)

# shellcheck source=lib.sh
. tests/bench/lib.sh
# run NAME URL PID SCRIPT: a warm-up, then the measured run.
run() {
  wrk -t2 -c"$CONNS" -d2s -s "$4" "$2" >/dev/null 2>&1 || true
  bench_row "$@"
}

echo "| server | requests/s | p50 | p99 | peak RSS | non-2xx |"
echo "| --- | --- | --- | --- | --- | --- |"

# streamgate: access log and audit log on (info), written to a file as in production.
PORT=18080 LISTEN_ADDRESS=127.0.0.1 HTTP_THREADS=2 LOG_LEVEL=info \
  RATE_LIMIT_USER_PER_MINUTE=100000000 RATE_LIMIT_IP_PER_MINUTE=100000000 \
  $BIN --env-file /dev/null > "$WORK/streamgate.log" 2>&1 &
SG=$!
wait_port 18080
run streamgate "http://127.0.0.1:18080/api/v1/stream/token" $SG tests/bench/token.lua
kill -TERM $SG; wait $SG || true

# The seed's Express implementation.
PORT=18081 node tests/bench/express/server.js > "$WORK/express.log" 2>&1 &
EX=$!
wait_port 18081
run express "http://127.0.0.1:18081/api/v1/stream/token" $EX tests/bench/token.lua
kill $EX; wait $EX 2>/dev/null || true

# nginx static 200 with a body the size of streamgate's answer.
start_nginx_static 18082
run nginx-static "http://127.0.0.1:18082/" "$(pgrep -P "$NGINX_MASTER" | head -1)" tests/bench/token.lua
