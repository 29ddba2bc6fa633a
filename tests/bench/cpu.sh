#!/usr/bin/env bash
# Server CPU per request: utime+stime of the server's processes (from /proc/PID/stat, before and
# after) over a fixed wrk run, divided by the requests wrk completed. Unlike requests/s, this
# holds on a noisy machine. Side by side in one run:
#   - streamgate's token endpoint at default settings (access and audit log on, per-user and
#     per-IP limits on, in process) and at lean settings (LOG_LEVEL=warn, limits off);
#   - nginx's static 200 of the same size (2 workers, access log off): the machine's floor;
#   - streamgate's webhook receiver on SQLite (each delivery a new id, stored durably) and the
#     seed's Express receiver (verifies the HMAC and acknowledges; stores nothing).
# Prints a Markdown table with the ratios. Usage: bash tests/bench/cpu.sh [seconds] [rounds]
# BIN=path measures that build instead of building one. BINS="a b ..." measures several builds
# alternately in each round (token rows only, each named by its file): a change's effect beside
# the machine's drift. TOKEN_ONLY=1 leaves out the webhook rows.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-10}"
ROUNDS="${2:-1}"
OUT=tests/bench/results
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/sg-cpu-XXXXXX)
chmod 755 "$WORK"
trap 'kill $(jobs -p) 2>/dev/null || true; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true; rm -rf "$WORK"' EXIT

BIN=${BIN:-}
BINS=${BINS:-}
if [ -n "$BINS" ]; then
  BIN=${BINS%% *}
  TOKEN_ONLY=1
elif [ -z "$BIN" ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release >/dev/null
  BIN=./build/release/streamgate
fi
TOKEN_ONLY=${TOKEN_ONLY:-}
if [ -z "$TOKEN_ONLY" ] && [ ! -d tests/bench/express/node_modules ]; then
  (cd tests/bench/express && npm ci --no-audit --no-fund >/dev/null)
fi
# shellcheck source=lib.sh
. tests/bench/lib.sh

export STREAM_API_KEY=bench-key STREAM_API_SECRET=bench-stream-secret-0123456789abcdef
export AUTH_JWT_SECRET=bench-app-secret-0123456789abcdef
export BENCH_JWT=$(env -u PORT $BIN mint-dev-jwt --env-file /dev/null --sub bench-user --ttl 86400)
export BENCH_WEBHOOKS="$WORK/webhooks.txt"
# The webhook rows' signed bodies; the token rows alone need neither them nor Express.
[ -n "$TOKEN_ONLY" ] || python3 tests/bench/make_webhooks.py "$STREAM_API_SECRET" 2000 "$BENCH_WEBHOOKS"
TICK=$(getconf CLK_TCK)

# CPU ticks of the given processes, summed: "user system".
ticks() {
  local u=0 s=0 p
  for p in "$@"; do
    read -r pu ps < <(awk '{print $14, $15}' "/proc/$p/stat")
    u=$((u + pu)); s=$((s + ps))
  done
  echo "$u $s"
}

# measure NAME URL SCRIPT PID...: a 2 s warm-up, then the measured run; prints "NAME µs/request".
declare -A US
measure() {
  local name=$1 url=$2 script=$3; shift 3
  wrk -t2 -c64 -d2s -s "$script" "$url" >/dev/null 2>&1 || true
  local before after requests non2xx
  before=$(ticks "$@")
  wrk -t2 -c64 -d"${DURATION}s" -s "$script" "$url" > "$OUT/cpu-$name.txt" 2>&1
  after=$(ticks "$@")
  requests=$(awk '/requests in/ {print $1}' "$OUT/cpu-$name.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$OUT/cpu-$name.txt")
  if [ -n "$non2xx" ]; then echo "$name: $non2xx non-2xx answers" >&2; exit 1; fi
  read -r u0 s0 <<< "$before"
  read -r u1 s1 <<< "$after"
  US[$name]=$(awk -v d=$((u1 - u0 + s1 - s0)) -v t="$TICK" -v n="$requests" 'BEGIN { printf "%.1f", d / t * 1e6 / n }')
  USER[$name]=$(awk -v d=$((u1 - u0)) -v t="$TICK" -v n="$requests" 'BEGIN { printf "%.1f", d / t * 1e6 / n }')
  SYS[$name]=$(awk -v d=$((s1 - s0)) -v t="$TICK" -v n="$requests" 'BEGIN { printf "%.1f", d / t * 1e6 / n }')
  RPS[$name]=$(awk '/Requests\/sec/ {printf "%d", $2}' "$OUT/cpu-$name.txt")
}
declare -A RPS USER SYS

start_nginx_static 18092
NGINX_PIDS="$NGINX_MASTER $(pgrep -P "$NGINX_MASTER" | tr '\n' ' ')"

token_run() {  # token_run NAME BINARY ENV...
  local name=$1 bin=$2; shift 2
  env PORT=18090 LISTEN_ADDRESS=127.0.0.1 HTTP_THREADS=2 "$@" \
    "$bin" --env-file /dev/null > "$WORK/$name.log" 2>&1 &
  local pid=$!
  wait_port 18090
  measure "$name" "http://127.0.0.1:18090/api/v1/stream/token" tests/bench/token.lua $pid
  kill -TERM $pid; wait $pid || true
}

row() { printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "${RPS[$2]}" "${US[$2]}" "${USER[$2]}" "${SYS[$2]}" "$3"; }
ratio() { awk -v a="${US[$1]}" -v b="${US[$2]}" 'BEGIN { printf "%.2f×", a / b }'; }

for round in $(seq "$ROUNDS"); do
  # nginx first and last in the token rows, so a change in the machine shows.
  measure nginx-static "http://127.0.0.1:18092/" tests/bench/token.lua $NGINX_PIDS
  if [ -n "$BINS" ]; then
    for b in $BINS; do
      token_run "token-default-$(basename "$b")" "$b" LOG_LEVEL=info \
        RATE_LIMIT_USER_PER_MINUTE=100000000 RATE_LIMIT_IP_PER_MINUTE=100000000
    done
  else
    token_run token-default "$BIN" LOG_LEVEL=info \
      RATE_LIMIT_USER_PER_MINUTE=100000000 RATE_LIMIT_IP_PER_MINUTE=100000000
    token_run token-lean "$BIN" LOG_LEVEL=warn RATE_LIMIT_USER_PER_MINUTE=0 RATE_LIMIT_IP_PER_MINUTE=0
  fi
  for k in US RPS USER SYS; do declare -n m=$k; m[nginx-first]=${m[nginx-static]}; done
  measure nginx-static "http://127.0.0.1:18092/" tests/bench/token.lua $NGINX_PIDS
  for k in US USER SYS; do
    declare -n m=$k
    m[nginx-static]=$(awk -v a="${m[nginx-first]}" -v b="${m[nginx-static]}" 'BEGIN { printf "%.1f", (a + b) / 2 }')
  done
  RPS[nginx-static]=$(( (RPS[nginx-first] + RPS[nginx-static]) / 2 ))

  if [ -z "$TOKEN_ONLY" ]; then
    PORT=18093 LISTEN_ADDRESS=127.0.0.1 HTTP_THREADS=2 LOG_LEVEL=info \
      DATABASE_URL="sqlite:$WORK/sqlite-$round/streamgate.db" $BIN --env-file /dev/null > "$WORK/wh.log" 2>&1 &
    SG=$!
    wait_port 18093
    measure webhook-sqlite "http://127.0.0.1:18093/api/webhook/stream" tests/bench/webhook.lua $SG
    kill -TERM $SG; wait $SG || true

    PORT=18094 node tests/bench/express/server.js > "$WORK/express.log" 2>&1 &
    EX=$!
    wait_port 18094
    measure webhook-express "http://127.0.0.1:18094/api/webhook/stream" tests/bench/webhook.lua $EX
    kill $EX; wait $EX 2>/dev/null || true
  fi

  echo "Round $round ($DURATION s per row, wrk -t2 -c64):"
  echo
  echo "| server | requests/s | server CPU µs/request | user | system | ratio |"
  echo "| --- | --- | --- | --- | --- | --- |"
  row "nginx static 200 (mean of before and after)" nginx-static "1"
  if [ -n "$BINS" ]; then
    for b in $BINS; do
      n="token-default-$(basename "$b")"
      row "streamgate token, default settings, $(basename "$b")" "$n" "$(ratio "$n" nginx-static) nginx"
    done
    echo
    continue
  fi
  row "streamgate token, default settings" token-default "$(ratio token-default nginx-static) nginx"
  row "streamgate token, lean settings" token-lean "$(ratio token-lean nginx-static) nginx"
  if [ -n "$TOKEN_ONLY" ]; then echo; continue; fi
  row "streamgate webhook, SQLite (stored)" webhook-sqlite "$(ratio webhook-sqlite webhook-express) Express"
  row "Express seed webhook (no storage)" webhook-express "1"
  echo
done
