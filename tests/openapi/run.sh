#!/usr/bin/env bash
# CTest entry: installs the npm validator packages (once), starts streamgate on a free port with a
# temporary SQLite file and an unreachable Stream, runs check.mjs against it, stops it.
# Usage: run.sh <streamgate binary>
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$1
if [ ! -d "$HERE/node_modules" ]; then (cd "$HERE" && npm ci --no-audit --no-fund --silent); fi
WORK=$(mktemp -d /tmp/sg-openapi-XXXXXX)
trap 'kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT
export STREAM_API_KEY=openapi-key STREAM_API_SECRET=openapi-stream-secret AUTH_JWT_SECRET=openapi-app-secret
export LISTEN_ADDRESS=127.0.0.1 PORT=0 DATABASE_URL="sqlite:$WORK/db.sqlite" STREAM_BASE_URL=https://127.0.0.1:9
export STREAM_MAX_ATTEMPTS=1 RECONCILE_INTERVAL_SECONDS=0
# App events go to a receiver inside check.mjs, on a free port chosen here.
RECEIVER_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export APP_WEBHOOK_URL="http://127.0.0.1:$RECEIVER_PORT/app-events"
export APP_WEBHOOK_SECRET="whsec_$(head -c 32 /dev/urandom | base64)"
export APP_WEBHOOK_RETRY_SCHEDULE=1,1,1,1,1 APP_WEBHOOK_POLL_MS=100
# Transcripts come from an HTTPS file server inside check.mjs, with a certificate made here.
FILES_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/files.key" -out "$WORK/files.crt" 2>/dev/null
export TRANSCRIPT_CA_FILE="$WORK/files.crt" TRANSCRIPT_ALLOW_PRIVATE_HOSTS=true TRANSCRIPT_POLL_MS=100
# shellcheck source=../support/streamgate.sh
. "$HERE/../support/streamgate.sh"
start_streamgate "$BIN" "$WORK/log"
PID=$SG_PID
PORT=$SG_PORT
APP=$(env -u PORT "$BIN" mint-dev-jwt --env-file /dev/null --sub alice)
ADMIN=$(env -u PORT "$BIN" mint-dev-jwt --env-file /dev/null --sub ops --roles admin)
LIMITED=$(env -u PORT "$BIN" mint-dev-jwt --env-file /dev/null --sub busy-ops --roles admin)
node "$HERE/check.mjs" "$HERE/../../docs/openapi.yaml" "http://127.0.0.1:$PORT" "$STREAM_API_SECRET" "$APP" "$ADMIN" "$LIMITED" "$RECEIVER_PORT" \
  "$FILES_PORT" "$WORK/files.crt" "$WORK/files.key"
