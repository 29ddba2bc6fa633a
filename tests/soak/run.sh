#!/usr/bin/env bash
# The long soak against the release build: `bash tests/soak/run.sh [seconds]` (1800 by default)
# writes build/soak/soak.csv and soak.txt, and plots RSS, descriptors and threads over time to
# docs/soak-rss.png with gnuplot. Figures go to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TOTAL="${1:-1800}"
cmake --preset bench >/dev/null
cmake --build --preset bench --target soak streamgate >/dev/null
mkdir -p build/soak
./build/bench/bench/soak "$SECONDS_TOTAL" build/soak/soak.csv | tee build/soak/soak.txt
bash tests/soak/plot.sh build/soak/soak.csv docs/soak-rss.png
