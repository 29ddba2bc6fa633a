#!/usr/bin/env bash
# The container image as an operator runs it (deploy/image.sh test; CTest label `image`): start it,
# get a token through it, run the image's own HEALTHCHECK command, and check that the service
# runs as the image's non-root user. Needs root (buildah) and a built image.
set -euo pipefail
IMAGE_SH=$(realpath "${1:-$(dirname "$0")/../../deploy/image.sh}")
IMAGE=${IMAGE_NAME:-localhost/streamgate:latest}
B=(buildah --storage-driver vfs)
WORK=$(mktemp -d /tmp/sg-image-XXXXXX)
RUN_PID=""
SG=""
cleanup() {
  # The service itself first: buildah run (and the script above it) end with it.
  [ -n "$SG" ] && kill -TERM "$SG" 2>/dev/null
  [ -n "$RUN_PID" ] && sleep 1 && kill -TERM "$RUN_PID" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "image test: $*" >&2; [ -f "$WORK/run.log" ] && tail -20 "$WORK/run.log" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

PORT=$(free_port)
MPORT=$(free_port)
mkdir -p "$WORK/data"
chown 10001 "$WORK/data"
export IMAGE_DATA=$WORK/data
export IMAGE_ENV="STREAM_API_KEY=image-key STREAM_API_SECRET=image-stream-secret-0123456789
AUTH_JWT_SECRET=image-app-secret-0123456789abcdef LISTEN_ADDRESS=127.0.0.1 PORT=$PORT
METRICS_ADDRESS=127.0.0.1 METRICS_PORT=$MPORT DATABASE_URL=sqlite:/app/data/streamgate.db
RECONCILE_INTERVAL_SECONDS=0"

# The image's own configuration: user, entrypoint, healthcheck.
user=$("${B[@]}" inspect --type image --format '{{.OCIv1.Config.User}}' "$IMAGE")
[ "$user" = streamgate ] || fail "image user is '$user', not streamgate"
health=$("${B[@]}" inspect --type image --format '{{.Docker.Config.Healthcheck.Test}}' "$IMAGE")
case "$health" in
  *"/usr/local/bin/streamgate healthcheck"*) ;;
  *) fail "HEALTHCHECK is '$health', not streamgate healthcheck" ;;
esac

start=$SECONDS
bash "$IMAGE_SH" run > "$WORK/run.log" 2>&1 &
RUN_PID=$!
for _ in $(seq 300); do
  grep -q '"msg":"listening"' "$WORK/run.log" 2>/dev/null && break
  kill -0 "$RUN_PID" 2>/dev/null || fail "the container exited"
  sleep 0.1
done
grep -q '"msg":"listening"' "$WORK/run.log" || fail "the container did not start listening"
echo "image test: listening after $((SECONDS - start)) s"

# The service runs as uid 10001 (the image's streamgate user), not root. (Ours is the one with
# this run's PORT in its environment.)
pid=""
for p in $(pgrep -f "^/usr/local/bin/streamgate$" || true); do
  if tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "PORT=$PORT"; then pid=$p; fi
done
[ -n "$pid" ] || fail "no streamgate process"
SG=$pid
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$uid" = 10001 ] || fail "streamgate runs as uid $uid"

# A token through the container, with a JWT minted by the image's own binary.
jwt=$(bash "$IMAGE_SH" run /usr/local/bin/streamgate mint-dev-jwt --sub alice --env-file /dev/null | tail -1)
body=$(curl -fsS -X POST -H "Authorization: Bearer $jwt" "http://127.0.0.1:$PORT/api/v1/stream/token") ||
  fail "token request failed"
python3 -c 'import json,sys; d=json.loads(sys.argv[1])["data"]; assert d["userId"]=="alice" and d["token"].count(".")==2' "$body" ||
  fail "unexpected token answer: $body"

# The HEALTHCHECK command, run in the image as the engine would: healthy while it serves.
out=$(bash "$IMAGE_SH" run /usr/local/bin/streamgate healthcheck --env-file /dev/null) ||
  fail "healthcheck failed: $out"
case "$out" in *"/readyz: 200"*) ;; *) fail "healthcheck said: $out" ;; esac
# /metrics on the metrics port only.
curl -fsS "http://127.0.0.1:$MPORT/metrics" | grep -q '^process_resident_memory_bytes' || fail "no metrics"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")" = 404 ] ||
  fail "/metrics on the public port"
# Data written by the container belongs to its user.
[ "$(stat -c %u "$WORK/data/streamgate.db")" = 10001 ] || fail "the database is not owned by uid 10001"

# SIGTERM: a clean stop; then the healthcheck reports unhealthy.
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "streamgate did not stop on SIGTERM"
# The container's output reaches us through buildah: wait for it to finish.
wait "$RUN_PID" || fail "the container exited with $?"
RUN_PID=""
SG=""
grep -q '"msg":"stopped"' "$WORK/run.log" || fail "no clean stop in the log"
if bash "$IMAGE_SH" run /usr/local/bin/streamgate healthcheck --env-file /dev/null >/dev/null 2>&1; then
  fail "healthcheck passed with nothing running"
fi
size=$("${B[@]}" images --format '{{.Size}}' "$IMAGE" | head -1)
echo "image test: token, healthcheck, non-root user (uid 10001), metrics port, clean stop; image $size"
echo "image test: 1 passed, 0 failed"
