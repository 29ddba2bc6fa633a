#!/usr/bin/env bash
# deploy/k8s/streamgate.yaml checked without a cluster (kubectl --dry-run=client needs one to
# download the schemas): tests/k8s/check.mjs with the kubernetes-models schemas, pinned below.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then echo "k8s: node missing under CI=true" >&2; exit 1; fi
  echo "k8s: SKIPPED (node missing)"; exit 77
fi
[ -d node_modules/kubernetes-models ] || npm ci --no-audit --no-fund --silent
node check.mjs ../../deploy/k8s/streamgate.yaml
