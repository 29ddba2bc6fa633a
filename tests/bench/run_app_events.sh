#!/usr/bin/env bash
# App event delivery benchmark: the release binary on SQLite (a temporary file), the npm
# standardwebhooks receiver, and tests/bench/app_events_load.py posting CALLS signed webhooks.
# Usage: [CONCURRENCY=64] bash tests/bench/run_app_events.sh [calls] [threads]
set -euo pipefail
cd "$(dirname "$0")/../.."
CALLS="${1:-5000}"
THREADS="${2:-4}"
BIN=${STREAMGATE_BIN:-./build/release/streamgate}
WORK=$(mktemp -d /tmp/sg-appev-XXXXXX)
trap 'kill $SG $RCV 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
# shellcheck source=lib.sh
. tests/bench/lib.sh
(cd tests/app_events && [ -d node_modules ] || npm ci --no-audit --no-fund --silent)
SECRET="whsec_$(head -c 32 /dev/urandom | base64)"
RPORT=18190
SPORT=18191
RECEIVER_SECRET=$SECRET RECEIVER_PORT=$RPORT node tests/app_events/receiver.mjs > "$WORK/receiver.log" 2>&1 &
RCV=$!
wait_port $RPORT
env -i PATH=/usr/bin:/bin STREAM_API_KEY=bench-key STREAM_API_SECRET=bench-secret AUTH_JWT_SECRET=bench-app \
  LISTEN_ADDRESS=127.0.0.1 PORT=$SPORT DATABASE_URL="sqlite:$WORK/db.sqlite" LOG_LEVEL=warn \
  RATE_LIMIT_USER_PER_MINUTE=0 RATE_LIMIT_IP_PER_MINUTE=0 RECONCILE_INTERVAL_SECONDS=0 \
  APP_WEBHOOK_URL="http://127.0.0.1:$RPORT/hooks" APP_WEBHOOK_SECRET="$SECRET" \
  APP_WEBHOOK_CONCURRENCY="${CONCURRENCY:-64}" \
  "$BIN" > "$WORK/sg.log" 2>&1 &
SG=$!
wait_port $SPORT
echo "| load | in | delivered | out | p50 | p99 | max |"
echo "|---|---|---|---|---|---|---|"
python3 tests/bench/app_events_load.py $SPORT $RPORT bench-secret "$CALLS" "$THREADS"
echo "streamgate peak RSS $(peak_rss_mb $SG) MB"
