#!/usr/bin/env bash
# deploy/compose.yaml with the compose Debian 12 ships (docker-compose 1.29): `config` parses and
# resolves it without an engine; then what the file promises is checked in the resolved form.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v docker-compose >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then echo "compose: docker-compose missing under CI=true" >&2; exit 1; fi
  echo "compose: SKIPPED (docker-compose missing: run deploy/install-deps.sh)"; exit 77
fi
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
STREAM_API_KEY=k STREAM_API_SECRET=s AUTH_JWT_SECRET=a POSTGRES_PASSWORD=p \
  docker-compose -p streamgate -f "$ROOT/deploy/compose.yaml" config > "$OUT"
python3 - "$OUT" <<'PY'
import sys
text = open(sys.argv[1]).read()
import re
def service(name):
    m = re.search(r"^  %s:\n((?:    .*\n|\n)*)" % re.escape(name), text, re.M)
    assert m, f"no service {name}"
    return m.group(1)
for replica in ("streamgate-1", "streamgate-2"):
    s = service(replica)
    assert "METRICS_PORT: '9464'" in s, f"{replica}: no metrics port"
    assert "read_only: true" in s and "no-new-privileges:true" in s, f"{replica}: not hardened"
    assert "ports:" not in s, f"{replica}: publishes a port (only nginx should)"
assert "8080:8080" in service("nginx") or "published: 8080" in service("nginx"), "nginx port"
print("compose: docker-compose config resolves deploy/compose.yaml; replicas hardened, only nginx published")
PY
echo "compose: 1 passed, 0 failed"
