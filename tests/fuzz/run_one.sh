#!/usr/bin/env bash
# One bounded libFuzzer run, as the CTest `fuzz_timed_<target>` of the fuzz preset (label
# fuzz_timed): starts from the committed corpus and dictionary, writes new inputs to a scratch
# directory, and leaves a crash or a broken property in tests/fuzz/findings/.
# Usage: run_one.sh <fuzzer> <target> <seconds> <source-dir>
set -euo pipefail
fuzzer="$1" target="$2" seconds="$3" src="$4"
work=$(mktemp -d /tmp/sg-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$src/tests/fuzz/findings"
dict=()
[ -f "$src/tests/fuzz/dict/$target.dict" ] && dict=(-dict="$src/tests/fuzz/dict/$target.dict")
if "$fuzzer" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=0 \
    -artifact_prefix="$src/tests/fuzz/findings/$target-" "$work" "$src/tests/fuzz/corpus/$target" \
    > "$work/log" 2>&1; then
  echo "fuzz $target: $(grep -E '^Done' "$work/log" | tail -1)"
else
  echo "fuzz $target: FAILED"
  tail -40 "$work/log"
  exit 1
fi
