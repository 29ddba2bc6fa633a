#!/usr/bin/env bash
# Timed fuzzing: builds the `fuzz` preset (clang, libFuzzer, ASan+UBSan) and runs every target
# for SECONDS, starting from its committed corpus; new inputs go to a scratch directory, a crash
# or a broken property leaves its input in tests/fuzz/findings/ and fails the run.
# Usage: bash tests/fuzz/run.sh [seconds-per-target]   (docs/testing.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET="${1:-60}"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz >/dev/null
WORK=$(mktemp -d /tmp/sg-fuzz-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p tests/fuzz/findings
status=0
passed=0
failed=0
for target in time jwt webhook token_request stored_meeting; do
  mkdir -p "$WORK/$target"
  if ./build/fuzz/fuzz_$target -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
      -artifact_prefix="tests/fuzz/findings/$target-" "$WORK/$target" "tests/fuzz/corpus/$target" \
      > "$WORK/$target.log" 2>&1; then
    echo "fuzz $target: $(grep -E '^Done' "$WORK/$target.log" | tail -1)"
    passed=$((passed + 1))
  else
    echo "fuzz $target: FAILED"; tail -30 "$WORK/$target.log"; status=1
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
exit $status
