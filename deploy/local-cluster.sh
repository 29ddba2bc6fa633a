#!/usr/bin/env bash
# The production topology as processes on loopback: PostgreSQL, Redis, two streamgate replicas
# and nginx in front of them. One command starts it, one stops it.
#
#   bash deploy/local-cluster.sh up      # prints the URL; state in $CLUSTER_DIR (default /tmp/streamgate-cluster)
#   bash deploy/local-cluster.sh down
#
# Environment (all optional): CLUSTER_DIR, CLUSTER_PORT (nginx, 8080), REPLICA_PORTS ("8101 8102"),
# PG_PORT (8132), REDIS_PORT (8179), STREAMGATE_BIN (build/release/streamgate, built if missing),
# and any streamgate setting (STREAM_API_KEY, STREAM_API_SECRET, AUTH_JWT_SECRET, ...): without
# them, development secrets are made up and written to $CLUSTER_DIR/cluster.env.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DIR=${CLUSTER_DIR:-/tmp/streamgate-cluster}
CLUSTER_PORT=${CLUSTER_PORT:-8080}
REPLICA_PORTS=${REPLICA_PORTS:-"8101 8102"}
PG_PORT=${PG_PORT:-8132}
REDIS_PORT=${REDIS_PORT:-8179}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort | tail -1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
wait_port() {
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "local-cluster: port $1 did not open" >&2; return 1
}

up() {
  if [ -f "$DIR/pids" ]; then echo "local-cluster: already up in $DIR (run down first)" >&2; exit 1; fi
  mkdir -p "$DIR"
  chmod 755 "$DIR"
  local bin=${STREAMGATE_BIN:-$ROOT/build/release/streamgate}
  if [ ! -x "$bin" ]; then
    cmake --preset release >/dev/null && cmake --build --preset release >/dev/null
  fi
  : > "$DIR/pids"

  # PostgreSQL (initdb and pg_ctl refuse root: run as postgres).
  mkdir -p "$DIR/pg"
  if [ "$(id -u)" = 0 ]; then chown postgres "$DIR/pg"; fi
  as_pg "$PGBIN/initdb" -D "$DIR/pg/data" -U postgres -A trust -E UTF8 >/dev/null
  as_pg "$PGBIN/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/log" -w \
    -o "-p $PG_PORT -k $DIR/pg -c listen_addresses=127.0.0.1" start >/dev/null
  as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres streamgate
  echo "pg $DIR/pg/data" >> "$DIR/pids"

  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$DIR" \
    > "$DIR/redis.log" 2>&1 &
  echo "redis $!" >> "$DIR/pids"
  wait_port "$REDIS_PORT"

  if [ ! -f "$DIR/cluster.env" ]; then
    {
      echo "STREAM_API_KEY=${STREAM_API_KEY:-dev-$(openssl rand -hex 6)}"
      echo "STREAM_API_SECRET=${STREAM_API_SECRET:-$(openssl rand -hex 32)}"
      echo "AUTH_JWT_SECRET=${AUTH_JWT_SECRET:-$(openssl rand -hex 32)}"
    } > "$DIR/cluster.env"
    chmod 600 "$DIR/cluster.env"
  fi
  local i=0 upstreams=""
  for port in $REPLICA_PORTS; do
    i=$((i + 1))
    (
      set -a
      # shellcheck disable=SC1091
      . "$DIR/cluster.env"
      set +a
      export LISTEN_ADDRESS=127.0.0.1 PORT="$port" TRUSTED_PROXY_HOPS=1 HTTP_THREADS=${HTTP_THREADS:-1}
      export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/streamgate" REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
      export SHUTDOWN_GRACE_SECONDS=${SHUTDOWN_GRACE_SECONDS:-10}
      # Each replica's /metrics on a free loopback port (its "listening" log line names it).
      export METRICS_ADDRESS=127.0.0.1 METRICS_PORT=${METRICS_PORT:-0}
      exec "$bin" --env-file /dev/null > "$DIR/replica$i.log" 2>&1
    ) &
    echo "replica$i $!" >> "$DIR/pids"
    wait_port "$port"
    upstreams+="    server 127.0.0.1:$port max_fails=1 fail_timeout=2s;"$'\n'
  done

  mkdir -p "$DIR/nginx"/{body,proxy,fastcgi,uwsgi,scgi}
  {
    echo "worker_processes 1; pid $DIR/nginx/nginx.pid; error_log $DIR/nginx/error.log warn;"
    echo "events { worker_connections 1024; }"
    echo "http { client_body_temp_path $DIR/nginx/body; proxy_temp_path $DIR/nginx/proxy;"
    echo "  fastcgi_temp_path $DIR/nginx/fastcgi; uwsgi_temp_path $DIR/nginx/uwsgi; scgi_temp_path $DIR/nginx/scgi;"
    UPS="$upstreams" LISTEN="127.0.0.1:$CLUSTER_PORT" awk \
      '{ gsub("@LISTEN@", ENVIRON["LISTEN"]); if ($0 ~ /^[ \t]*@UPSTREAMS@[ \t]*$/) { printf "%s", ENVIRON["UPS"] } else print }' \
      "$ROOT/deploy/nginx/streamgate.conf.template"
    echo "  access_log $DIR/nginx/access.log streamgate;"
    echo "}"
  } > "$DIR/nginx/nginx.conf"
  nginx -c "$DIR/nginx/nginx.conf"
  echo "nginx $(cat "$DIR/nginx/nginx.pid")" >> "$DIR/pids"
  wait_port "$CLUSTER_PORT"
  echo "local-cluster: up at http://127.0.0.1:$CLUSTER_PORT (replicas: $REPLICA_PORTS; state: $DIR)"
}

down() {
  [ -f "$DIR/pids" ] || { echo "local-cluster: nothing running in $DIR"; return 0; }
  while read -r name what; do
    case "$name" in
      pg) as_pg "$PGBIN/pg_ctl" -D "$what" -m fast -w stop >/dev/null 2>&1 || true ;;
      nginx) kill -QUIT "$what" 2>/dev/null || true ;;
      *) kill -TERM "$what" 2>/dev/null || true ;;
    esac
  done < "$DIR/pids"
  # Give the replicas their drain, then make sure nothing is left.
  for _ in $(seq 100); do
    alive=0
    while read -r name what; do
      [ "$name" = pg ] && continue
      kill -0 "$what" 2>/dev/null && alive=1
    done < "$DIR/pids"
    [ $alive = 0 ] && break
    sleep 0.1
  done
  while read -r name what; do [ "$name" = pg ] || kill -KILL "$what" 2>/dev/null || true; done < "$DIR/pids"
  rm -rf "$DIR"
  echo "local-cluster: down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
