#!/usr/bin/env bash
# Transcript benchmark (tests/bench/transcripts.cpp): ingesting a two-hour transcript through the
# release binary, then search over N meetings with transcripts (default 10,000), on SQLite and on
# PostgreSQL (a server this script starts).
# Usage: bash tests/bench/run_transcripts.sh [meetings]
set -euo pipefail
cd "$(dirname "$0")/../.."
MEETINGS="${1:-10000}"
WORK=$(mktemp -d /tmp/sg-transcripts-XXXXXX)
chmod 755 "$WORK"
# shellcheck source=lib.sh
. tests/bench/lib.sh
trap 'stop_postgres; rm -rf "$WORK"' EXIT

cmake --preset bench >/dev/null
cmake --build --preset bench --target transcripts streamgate >/dev/null
PGPORT=18188
start_postgres
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres ingest
./build/bench/bench/transcripts ingest
./build/bench/bench/transcripts ingest "postgres://postgres@127.0.0.1:$PGPORT/ingest"
./build/bench/bench/transcripts search "$MEETINGS" "sqlite:$WORK/sqlite/streamgate.db"
./build/bench/bench/transcripts search "$MEETINGS" "postgres://postgres@127.0.0.1:$PGPORT/bench"
