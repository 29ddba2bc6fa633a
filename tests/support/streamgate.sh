# Sourced by the CTest shell scripts: start_streamgate BIN LOGFILE starts the binary (settings
# from the environment, PORT=0) and sets SG_PID, SG_PORT and
# SG_METRICS_PORT once it listens.
start_streamgate() {
  METRICS_PORT=${METRICS_PORT:-0} "$1" --env-file /dev/null > "$2" 2>&1 &
  SG_PID=$!
  SG_PORT=""
  for _ in $(seq 200); do
    SG_PORT=$(grep -o '"msg":"listening".*"port":[0-9]*' "$2" | grep -o '[0-9]*$' || true)
    SG_METRICS_PORT=$(grep -o '"metricsPort":[0-9]*' "$2" | grep -o '[0-9]*$' || true)
    [ -n "$SG_PORT" ] && return 0
    sleep 0.05
  done
  cat "$2" >&2
  return 1
}
