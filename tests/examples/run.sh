#!/usr/bin/env bash
# CTest entry for examples/web: builds the page (npm ci, esbuild), serves it on one origin,
# starts streamgate on another with that origin allowed, and runs check.mjs in Debian's Chromium.
# Usage: run.sh <streamgate binary>
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WEB=$HERE/../../examples/web
BIN=$(realpath "$1")
if [ ! -x /usr/bin/chromium ]; then
  if [ "${CI:-}" = true ]; then echo "chromium is not installed (deploy/install-deps.sh)" >&2; exit 1; fi
  echo "*** SKIPPED: example test (chromium is not installed; run deploy/install-deps.sh) ***"
  exit 0
fi
[ -d "$HERE/node_modules" ] || (cd "$HERE" && npm ci --no-audit --no-fund --silent)
[ -d "$WEB/node_modules" ] || (cd "$WEB" && npm ci --no-audit --no-fund --silent)
(cd "$WEB" && npm run --silent build)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PAGE=$(free_port)
WORK=$(mktemp -d /tmp/sg-example-XXXXXX)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
python3 -m http.server "$PAGE" --bind 127.0.0.1 --directory "$WEB" > "$WORK/page.log" 2>&1 &
PIDS+=($!)
export STREAM_API_KEY=example-key STREAM_API_SECRET=example-stream-secret AUTH_JWT_SECRET=example-app-secret-0123456789
export LISTEN_ADDRESS=127.0.0.1 PORT=0 DATABASE_URL="sqlite:$WORK/db.sqlite" RECONCILE_INTERVAL_SECONDS=0
export CORS_ALLOWED_ORIGINS="http://127.0.0.1:$PAGE"
# shellcheck source=../support/streamgate.sh
. "$HERE/../support/streamgate.sh"
start_streamgate "$BIN" "$WORK/sg.log"
PIDS+=("$SG_PID")
JWT=$(env -u PORT "$BIN" mint-dev-jwt --env-file /dev/null --sub example-user)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PAGE") 2>/dev/null && break; sleep 0.1; done
HOME="$WORK" node "$HERE/check.mjs" "http://127.0.0.1:$PAGE" "http://127.0.0.1:$SG_PORT" "$JWT" example-user
# Both token requests (the page's first, and the provider's) reached streamgate from the page.
n=$(grep -c '"route":"/api/v1/stream/token","status":200' "$WORK/sg.log" || true)
[ "$n" -ge 2 ] || { echo "example: $n token requests reached streamgate" >&2; exit 1; }
