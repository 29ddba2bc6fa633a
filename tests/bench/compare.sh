#!/usr/bin/env bash
# Two builds side by side in one run, so that a noisy machine affects both alike: the token
# endpoint and durable SQLite webhooks, alternating A, B, A, B, ... for ROUNDS rounds of
# DURATION seconds each (after a 2 s warm-up). Prints one Markdown row per run.
# Usage: bash tests/bench/compare.sh OLD_BINARY NEW_BINARY [duration-seconds] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
A=$1
B=$2
DURATION="${3:-10}"
ROUNDS="${4:-2}"
OUT=tests/bench/results
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/sg-compare-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
# shellcheck source=lib.sh
. tests/bench/lib.sh

export STREAM_API_KEY=bench-key STREAM_API_SECRET=bench-stream-secret-0123456789abcdef
export AUTH_JWT_SECRET=bench-app-secret-0123456789abcdef
export BENCH_JWT=$(env -u PORT "$B" mint-dev-jwt --env-file /dev/null --sub bench-user --ttl 86400)
export BENCH_WEBHOOKS="$WORK/webhooks.txt"
python3 tests/bench/make_webhooks.py "$STREAM_API_SECRET" 2000 "$BENCH_WEBHOOKS"

# one NAME BINARY SCRIPT PATH: a fresh server (fresh SQLite file), a warm-up, the measured run.
one() {
  local name=$1 bin=$2 script=$3 path=$4 port=18190
  rm -rf "$WORK/db"
  PORT=$port LISTEN_ADDRESS=127.0.0.1 HTTP_THREADS=2 LOG_LEVEL=info DATABASE_URL="sqlite:$WORK/db/sg.db" \
    RATE_LIMIT_USER_PER_MINUTE=100000000 RATE_LIMIT_IP_PER_MINUTE=100000000 \
    "$bin" --env-file /dev/null > "$WORK/$name.log" 2>&1 &
  local pid=$!
  wait_port $port
  wrk -t2 -c64 -d2s -s "$script" "http://127.0.0.1:$port$path" >/dev/null 2>&1 || true
  bench_row "$name" "http://127.0.0.1:$port$path" $pid "$script"
  kill -TERM $pid
  wait $pid || true
}

echo "| run | requests/s | p50 | p99 | peak RSS | non-2xx |"
echo "| --- | --- | --- | --- | --- | --- |"
for round in $(seq "$ROUNDS"); do
  one "token-old-$round" "$A" tests/bench/token.lua /api/v1/stream/token
  one "token-new-$round" "$B" tests/bench/token.lua /api/v1/stream/token
  one "webhook-old-$round" "$A" tests/bench/webhook.lua /api/webhook/stream
  one "webhook-new-$round" "$B" tests/bench/webhook.lua /api/webhook/stream
done
