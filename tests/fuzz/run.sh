#!/usr/bin/env bash
# Timed fuzzing: builds the `fuzz` preset (clang, libFuzzer, ASan+UBSan) and runs its CTest label
# fuzz_timed: every target for SECONDS, from its committed corpus (tests/fuzz/run_one.sh).
# Usage: bash tests/fuzz/run.sh [seconds-per-target]   (docs/testing.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET="${1:-60}"
cmake --preset fuzz -DSTREAMGATE_FUZZ_SECONDS="$SECONDS_PER_TARGET" >/dev/null
cmake --build --preset fuzz >/dev/null
status=0
ctest --test-dir build/fuzz -L fuzz_timed -V > build/fuzz/fuzz_timed.log 2>&1 ||
  status=1
grep -E 'fuzz [a-z_]+: |property failed|ERROR:' build/fuzz/fuzz_timed.log || true
passed=$(grep -cE 'fuzz [a-z_]+: Done' build/fuzz/fuzz_timed.log || true)
failed=$(grep -cE 'fuzz [a-z_]+: FAILED' build/fuzz/fuzz_timed.log || true)
[ "$status" = 0 ] || tail -60 build/fuzz/fuzz_timed.log
echo "fuzz: $passed passed, $failed failed"
exit $status
