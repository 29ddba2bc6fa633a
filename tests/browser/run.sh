#!/usr/bin/env bash
# CTest entry: Debian's Chromium (headless, driven by playwright-core from npm) on a page from
# one origin fetches a token from streamgate on another origin; allowed for the configured
# origin, blocked for another.
# Usage: run.sh <streamgate binary>
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$1
if [ ! -x /usr/bin/chromium ]; then
  if [ "${CI:-}" = true ]; then echo "chromium is not installed (deploy/install-deps.sh)" >&2; exit 1; fi
  echo "*** SKIPPED: browser test (chromium is not installed; run deploy/install-deps.sh) ***"
  exit 0
fi
if [ ! -d "$HERE/node_modules" ]; then (cd "$HERE" && npm ci --no-audit --no-fund --silent); fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ALLOWED=$(free_port)
OTHER=$(free_port)
while [ "$OTHER" = "$ALLOWED" ]; do OTHER=$(free_port); done
WORK=$(mktemp -d /tmp/sg-browser-XXXXXX)
trap 'kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT
export STREAM_API_KEY=browser-key STREAM_API_SECRET=browser-stream-secret AUTH_JWT_SECRET=browser-app-secret
export LISTEN_ADDRESS=127.0.0.1 PORT=0 DATABASE_URL="sqlite:$WORK/db.sqlite" RECONCILE_INTERVAL_SECONDS=0
export CORS_ALLOWED_ORIGINS="http://127.0.0.1:$ALLOWED"
# shellcheck source=../support/streamgate.sh
. "$HERE/../support/streamgate.sh"
start_streamgate "$BIN" "$WORK/log"
PID=$SG_PID
PORT=$SG_PORT
JWT=$(env -u PORT "$BIN" mint-dev-jwt --env-file /dev/null --sub browser-user)
HOME="$WORK" node "$HERE/cors.mjs" "http://127.0.0.1:$PORT" "$JWT" "$ALLOWED" "$OTHER"
# The preflight reached streamgate and was answered (not just the browser's guess).
grep -q '"method":"OPTIONS"' "$WORK/log" || { echo "no preflight reached streamgate" >&2; exit 1; }
