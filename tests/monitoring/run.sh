#!/usr/bin/env bash
# deploy/monitoring/: the alert rules pass `promtool check rules` (Debian's prometheus package),
# and every metric the dashboard and the rules name is one that a live streamgate exports (its
# /metrics on the metrics listener). Also lints the live exposition with `promtool check metrics`.
#   bash tests/monitoring/run.sh path/to/streamgate
set -euo pipefail
BIN=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MON=$ROOT/deploy/monitoring
if ! command -v promtool >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then echo "monitoring: promtool missing under CI=true" >&2; exit 1; fi
  echo "monitoring: SKIPPED (promtool missing: run deploy/install-deps.sh)"; exit 77
fi
WORK=$(mktemp -d)
SG_PID=""
cleanup() { [ -n "$SG_PID" ] && kill "$SG_PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

promtool check rules "$MON/alerts.yaml"

# shellcheck source=../support/streamgate.sh
. "$ROOT/tests/support/streamgate.sh"
export STREAM_API_KEY=k STREAM_API_SECRET=s AUTH_JWT_SECRET=monitoring-test-secret-0123456789
export LISTEN_ADDRESS=127.0.0.1 PORT=0 METRICS_PORT=0 DATABASE_URL="sqlite:$WORK/db.sqlite"
export RECONCILE_INTERVAL_SECONDS=0 LOG_LEVEL=info STREAM_BASE_URL=https://127.0.0.1:9
export STREAM_MAX_ATTEMPTS=2 STREAM_RETRY_BUDGET_MS=2000 APP_WEBHOOK_POLL_MS=50
export APP_WEBHOOK_URL=http://127.0.0.1:9/hooks APP_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
start_streamgate "$BIN" "$WORK/sg.log"
[ -n "$SG_METRICS_PORT" ] || { echo "monitoring: no metricsPort in the listening line" >&2; exit 1; }
# Traffic of every kind first, so that the labelled series exist as well as their families: a
# token, a call against an unreachable Stream (failed and retried), a webhook sequence (app
# events to an endpoint that refuses, a transcript from a host that does not resolve).
curl -fsS "http://127.0.0.1:$SG_PORT/readyz" >/dev/null
JWT=$("$BIN" mint-dev-jwt --sub monitor --env-file /dev/null)
curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $JWT" "http://127.0.0.1:$SG_PORT/api/v1/stream/token"
curl -sS -o /dev/null -X POST -H "Authorization: Bearer $JWT" -H 'Content-Type: application/json' \
  -d '{"callId":"monitoring"}' "http://127.0.0.1:$SG_PORT/api/v1/calls"
"$BIN" trigger meeting --call monitoring-hooks --url "http://127.0.0.1:$SG_PORT" --env-file /dev/null >/dev/null
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$SG_METRICS_PORT/metrics" > "$WORK/metrics.txt"
  grep -q '^streamgate_app_event_deliveries_total' "$WORK/metrics.txt" &&
    grep -q '^streamgate_transcript_fetch_duration_seconds_count' "$WORK/metrics.txt" && break
  sleep 0.1
done
# The public port does not serve it.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SG_PORT/metrics")
[ "$code" = 404 ] || { echo "monitoring: /metrics on the public port answered $code" >&2; exit 1; }

promtool check metrics < "$WORK/metrics.txt" > "$WORK/lint.txt" 2>&1 || true
if [ -s "$WORK/lint.txt" ]; then
  echo "monitoring: promtool check metrics found problems:" >&2
  cat "$WORK/lint.txt" >&2
  exit 1
fi

python3 - "$WORK/metrics.txt" "$MON/grafana-dashboard.json" "$MON/alerts.yaml" <<'PY'
import json, re, sys
exported = set()
for line in open(sys.argv[1]):
    if line.startswith("# TYPE "):
        name, kind = line.split()[2:4]
        exported.add(name)
        if kind == "histogram":
            exported.update({name + "_bucket", name + "_sum", name + "_count"})
        if kind == "summary":
            exported.update({name + "_sum", name + "_count"})
dash = json.load(open(sys.argv[2]))
exprs = []
def walk(panels):
    for p in panels:
        exprs.extend(t["expr"] for t in p.get("targets", []) if "expr" in t)
        walk(p.get("panels", []))
walk(dash["panels"])
exprs += [v["query"] for v in dash["templating"]["list"] if isinstance(v.get("query"), str)]
rules = open(sys.argv[3]).read()
exprs += [rules]
named = set()
for e in exprs:
    named.update(m for m in re.findall(r"\b((?:streamgate|process)_[a-zA-Z0-9_]+)", e))
missing = sorted(named - exported)
print(f"monitoring: {len(named)} metric names in the dashboard and rules, {len(exported)} exported")
if missing:
    print("monitoring: named but not exported: " + ", ".join(missing), file=sys.stderr)
    sys.exit(1)
panels = sum(1 for _ in dash["panels"])
print(f"monitoring: dashboard has {panels} panels and {len(exprs) - 1} queries; all names exported")
PY
echo "monitoring: 1 passed, 0 failed"
