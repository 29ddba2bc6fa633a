#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs packages, builds the `dev` preset
# (Debug, ASan+UBSan) and runs every suite through CTest. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
cmake --preset dev
cmake --build --preset dev -j "$(nproc)"
ctest --preset dev
# Timed fuzzing (docs/testing.md): FUZZ_SECONDS per target, 0 to skip.
if [ "${FUZZ_SECONDS:-15}" != 0 ]; then bash tests/fuzz/run.sh "${FUZZ_SECONDS:-15}"; fi
