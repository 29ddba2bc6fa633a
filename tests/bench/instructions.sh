#!/usr/bin/env bash
# User-space instructions per token request, counted by callgrind: where server CPU time on this
# machine drifts by ±20 % between runs (tests/bench/cpu.sh), an instruction count repeats within
# about 1 %, so a small change's effect shows. It leaves out the kernel (the system calls are the
# same for every build) and what an instruction costs (cache misses, the hypervisor).
# The server runs under valgrind at default settings (access and audit log on, both in-process
# limits on) with two I/O threads; counting is switched on after a warm-up, for a fixed wrk run
# (-t1 -c8), and the total is divided by the requests wrk completed.
# Usage: bash tests/bench/instructions.sh BINARY... (each measured in turn; one line each)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
DURATION=${DURATION:-6}
WORK=$(mktemp -d /tmp/sg-instr-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
# shellcheck source=lib.sh
. tests/bench/lib.sh
export STREAM_API_KEY=bench-key STREAM_API_SECRET=bench-stream-secret-0123456789abcdef
export AUTH_JWT_SECRET=bench-app-secret-0123456789abcdef
URL=http://127.0.0.1:18096/api/v1/stream/token

for BIN in "$@"; do
  BENCH_JWT=$(env -u PORT "$BIN" mint-dev-jwt --env-file /dev/null --sub bench-user --ttl 86400)
  export BENCH_JWT
  rm -f "$WORK"/cg.out*
  env PORT=18096 LISTEN_ADDRESS=127.0.0.1 HTTP_THREADS=2 LOG_LEVEL=info \
    RATE_LIMIT_USER_PER_MINUTE=100000000 RATE_LIMIT_IP_PER_MINUTE=100000000 \
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/cg.out" \
    "$BIN" --env-file /dev/null > "$WORK/server.log" 2> "$WORK/valgrind.log" &
  PID=$!
  wait_port 18096
  wrk -t1 -c8 -d2s -s tests/bench/token.lua "$URL" > /dev/null 2>&1
  callgrind_control -i on "$PID" > /dev/null 2>&1
  wrk -t1 -c8 -d"${DURATION}s" -s tests/bench/token.lua "$URL" > "$WORK/wrk.txt" 2>&1
  callgrind_control -i off "$PID" > /dev/null 2>&1
  callgrind_control -d "$PID" > /dev/null 2>&1
  # The dump is written by the server's process in its own time.
  for _ in $(seq 100); do grep -qs '^totals:' "$WORK"/cg.out.* && break; sleep 0.1; done
  kill -TERM "$PID"
  wait "$PID" || true
  requests=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
  if grep -q Non-2xx "$WORK/wrk.txt"; then echo "$BIN: non-2xx answers" >&2; exit 1; fi
  ir=$(cat "$WORK"/cg.out* | awk '/^totals:/ {s += $2} END {print s}')
  awk -v b="$BIN" -v ir="$ir" -v n="$requests" \
    'BEGIN { printf "%s: %d requests, %.1fk instructions per request\n", b, n, ir / n / 1000 }'
done
