#!/usr/bin/env bash
# Webhook benchmark: wrk (64 connections) posts signed call.session_started bodies (~1.2 KB, 2,000
# distinct calls), each request with a new X-Webhook-Id so every one must be committed before
# its 200. Runs streamgate on SQLite, streamgate on PostgreSQL (a server this script starts,
# fsync on, synchronous_commit on; the default pool of 4 connections), and the seed's Express receiver (verify + acknowledge, no
# storage), one after the other. Prints a Markdown table.
# Usage: bash tests/bench/run_webhooks.sh [duration-seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-15}"
OUT=tests/bench/results
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/sg-whbench-XXXXXX)
chmod 755 "$WORK"
# shellcheck source=lib.sh
. tests/bench/lib.sh
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  stop_postgres
  rm -rf "$WORK"
}
trap cleanup EXIT

cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
BIN=./build/release/streamgate
if [ ! -d tests/bench/express/node_modules ]; then (cd tests/bench/express && npm ci --no-audit --no-fund >/dev/null); fi

export STREAM_API_KEY=bench-key STREAM_API_SECRET=bench-stream-secret-0123456789abcdef
export AUTH_JWT_SECRET=bench-app-secret-0123456789abcdef
export BENCH_WEBHOOKS="$WORK/webhooks.txt"
python3 tests/bench/make_webhooks.py "$STREAM_API_SECRET" 2000 "$BENCH_WEBHOOKS"

run() { bench_row "$1" "$2" "$3" tests/bench/webhook.lua; }

echo "| server | deliveries/s | p50 | p99 | peak RSS | non-2xx |"
echo "| --- | --- | --- | --- | --- | --- |"

PORT=18180 LISTEN_ADDRESS=127.0.0.1 HTTP_THREADS=2 LOG_LEVEL=info DATABASE_URL="sqlite:$WORK/sqlite/streamgate.db" \
  $BIN --env-file /dev/null > "$WORK/sqlite.log" 2>&1 &
SG=$!
wait_port 18180
run streamgate-sqlite "http://127.0.0.1:18180/api/webhook/stream" $SG
kill -TERM $SG; wait $SG || true
STORED=$(sqlite3 "$WORK/sqlite/streamgate.db" "select count(*) from webhook_inbox")
echo "(sqlite inbox rows after the run: $STORED)" >&2

PGPORT=18185
start_postgres
PORT=18181 LISTEN_ADDRESS=127.0.0.1 HTTP_THREADS=2 LOG_LEVEL=info \
  DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/bench" $BIN --env-file /dev/null > "$WORK/pg.log" 2>&1 &
SG=$!
wait_port 18181
run streamgate-postgres "http://127.0.0.1:18181/api/webhook/stream" $SG
kill -TERM $SG; wait $SG || true
STORED=$(as_pg psql -h 127.0.0.1 -p "$PGPORT" -U postgres bench -Atc "select count(*) from webhook_inbox")
echo "(postgres inbox rows after the run: $STORED)" >&2
rate() { awk '/Requests\/sec/ {print $2}' "$OUT/$1.txt"; }
awk -v p="$(rate streamgate-postgres)" -v s="$(rate streamgate-sqlite)" \
  'BEGIN { printf "(PostgreSQL / SQLite in this run: %.2f)\n", p / s }' >&2

PORT=18182 node tests/bench/express/server.js > "$WORK/express.log" 2>&1 &
EX=$!
wait_port 18182
run express-seed "http://127.0.0.1:18182/api/webhook/stream" $EX
