#!/usr/bin/env bash
# Installs, builds (release) and runs streamgate on its embedded defaults. Without a .env it
# first writes a development one with random secrets (see `streamgate init-env`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh --build   # running needs no test servers or browser
cmake --preset release
cmake --build --preset release -j "$(nproc)"
if [ ! -f .env ]; then
  ./build/release/streamgate init-env
fi
exec ./build/release/streamgate "$@"
