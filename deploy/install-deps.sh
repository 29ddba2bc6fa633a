#!/usr/bin/env bash
# Installs every Debian 12 package streamgate needs to build, run and test. Idempotent.
#   --build   only what compiling needs (for the Dockerfile's build stage)
set -euo pipefail
BUILD_ONLY=false
if [ "${1:-}" = "--build" ]; then BUILD_ONLY=true; fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PKGS=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates curl openssl
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-test1.81-dev
  libboost-program-options1.81-dev
  libssl-dev libspdlog-dev libfmt-dev libsqlite3-dev sqlite3 libpq-dev zlib1g-dev prometheus-cpp-dev
)
if [ "$BUILD_ONLY" = false ]; then
  # Servers and tools the tests and benchmarks start.
  PKGS+=(postgresql redis-server nginx-light wrk python3 chromium)
  # User-space instructions per request (tests/bench/instructions.sh).
  PKGS+=(valgrind)
  # The soak plot (tests/soak/plot.sh); promtool for the alert rules (tests/monitoring).
  PKGS+=(gnuplot-nox prometheus)
  # The container image (deploy/image.sh) and Debian's compose (tests/compose).
  PKGS+=(buildah debootstrap docker-compose)
  # The fuzz preset: clang with libFuzzer.
  PKGS+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: all packages present"
fi
if [ "$BUILD_ONLY" = true ]; then exit 0; fi
# Node.js and npm run the OpenAPI check and the browser tests (the machine image may bring its
# own Node.js; Debian's is used otherwise). Debian 12's Node.js is 18: every npm package the
# tests pin supports it (playwright-core 1.61, not 1.62+, which needs 20), and
# `deploy/image.sh fresh` checks that on a clean Debian 12.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
# The test setup starts its own PostgreSQL, Redis and nginx; the distro services are not needed.
for svc in postgresql redis-server nginx prometheus; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $SUDO systemctl stop "$svc" || true
  fi
done
