#!/usr/bin/env bash
# Meeting list benchmark: N meetings (default 100,000) on SQLite and on PostgreSQL (a server this
# script starts), then the first and a deep page of GET /api/v1/meetings for several callers
# (tests/bench/meeting_list.cpp).
# Usage: bash tests/bench/run_meeting_list.sh [meetings]
set -euo pipefail
cd "$(dirname "$0")/../.."
MEETINGS="${1:-100000}"
WORK=$(mktemp -d /tmp/sg-list-XXXXXX)
chmod 755 "$WORK"
# shellcheck source=lib.sh
. tests/bench/lib.sh
trap 'stop_postgres; rm -rf "$WORK"' EXIT

cmake --preset bench >/dev/null
cmake --build --preset bench --target meeting_list >/dev/null
./build/bench/bench/meeting_list "$MEETINGS" "sqlite:$WORK/sqlite/streamgate.db"
PGPORT=18187
start_postgres
./build/bench/bench/meeting_list "$MEETINGS" "postgres://postgres@127.0.0.1:$PGPORT/bench"
