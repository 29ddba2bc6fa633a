#!/usr/bin/env bash
# History benchmark: 10,000 session events (5,000 sessions) delivered to ONE call, one at a time,
# with an event for another call after every 10th, on SQLite and on PostgreSQL (a server this
# script starts). Per-event p50/p99 at the start and at the end of the history, then the
# meeting read (tests/bench/call_history.cpp).
# Usage: bash tests/bench/run_history.sh [events]
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS="${1:-10000}"
WORK=$(mktemp -d /tmp/sg-history-XXXXXX)
chmod 755 "$WORK"
# shellcheck source=lib.sh
. tests/bench/lib.sh
trap 'stop_postgres; rm -rf "$WORK"' EXIT

cmake --preset bench >/dev/null
cmake --build --preset bench >/dev/null
./build/bench/bench/call_history "$EVENTS" "sqlite:$WORK/sqlite/streamgate.db"
PGPORT=18186
start_postgres
./build/bench/bench/call_history "$EVENTS" "postgres://postgres@127.0.0.1:$PGPORT/bench"
