#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs packages, builds the `dev` preset
# (Debug, ASan+UBSan) and runs every suite through CTest. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
cmake --preset dev
cmake --build --preset dev -j "$(nproc)"
ctest --preset dev
