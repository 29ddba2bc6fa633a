#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs packages, builds the `dev` preset
# (Debug, ASan+UBSan) and runs every suite through CTest. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
cmake --preset dev
cmake --build --preset dev -j "$(nproc)"
ctest --preset dev
# ThreadSanitizer (docs/testing.md): the Boost.Test suites, which use threads (I/O threads, store
# pools, the log sink, JWKS refresh, the limiters), in the tsan preset. TSAN=0 skips it. The soak
# is left to the dev run: its memory bound is for the ASan build.
if [ "${TSAN:-1}" != 0 ]; then
  cmake --preset tsan
  cmake --build --preset tsan -j "$(nproc)"
  ctest --test-dir build/tsan --output-on-failure -j 2 -R '^test_' -E '^test_soak$'
fi
# Timed fuzzing (docs/testing.md): FUZZ_SECONDS per target, 0 to skip.
if [ "${FUZZ_SECONDS:-15}" != 0 ]; then bash tests/fuzz/run.sh "${FUZZ_SECONDS:-15}"; fi
