# Shared by the benchmark scripts.
peak_rss_mb() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

wait_port() {
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "port $1 never opened" >&2; return 1
}

# bench_row NAME URL PID SCRIPT: one wrk run (64 connections), one Markdown table row.
bench_row() {
  local name=$1 url=$2 pid=$3 script=$4
  wrk -t2 -c64 -d"${DURATION}s" --latency -s "$script" "$url" > "$OUT/$name.txt" 2>&1
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/$name.txt")
  p50=$(awk '$1=="50%" {print $2}' "$OUT/$name.txt")
  p99=$(awk '$1=="99%" {print $2}' "$OUT/$name.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$OUT/$name.txt")
  printf '| %s | %s | %s | %s | %s MB | %s |\n' "$name" "$rps" "$p50" "$p99" "$(peak_rss_mb "$pid")" "${non2xx:-0}"
}

# PostgreSQL for a benchmark, in WORK/pg on PGPORT (initdb and pg_ctl refuse root: run as
# postgres), with a database named bench. stop_postgres undoes it.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort | tail -1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
start_postgres() {
  mkdir -p "$WORK/pg" && chown postgres "$WORK/pg" 2>/dev/null || true
  as_pg "$PGBIN/initdb" -D "$WORK/pg" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/log" -w \
    -o "-p $PGPORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null
  as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres bench
}
stop_postgres() {
  if [ -d "$WORK/pg" ]; then as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast -w stop >/dev/null 2>&1 || true; fi
}

# nginx answering a static 200 with a body the size of streamgate's token answer (2 workers,
# access log off: this machine's floor), on PORT, files in WORK; sets NGINX_MASTER.
start_nginx_static() {
  local port=$1
  local body='{"success":true,"data":{"token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiYmVuY2gtdXNlciIsImlhdCI6MTc5NTMxNTczMSwiZXhwIjoxNzk1MzE5MzMxfQ.N9WSPcIES68fBSlbk4EbVfUUNS2se9_sMKtY-uc_GJI","userId":"bench-user","expiresAt":"2026-11-22T03:50:56Z","apiKey":"bench-key"},"message":"Token generated successfully"}'
  mkdir -p "$WORK"/{body,proxy,fastcgi,uwsgi,scgi}
  sed -e "s|@DIR@|$WORK|g" -e "s|@PORT@|$port|g" -e "s|@BODY@|$body|g" tests/bench/nginx.conf.in > "$WORK/nginx.conf"
  nginx -c "$WORK/nginx.conf"
  wait_port "$port"
  NGINX_MASTER=$(cat "$WORK/nginx.pid")
}
