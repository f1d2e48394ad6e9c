#!/usr/bin/env bash
# The import benchmark: `confab import django` (release build) of a generated seed-004 export
# into a fresh database on the private cluster (or DATABASE_URL's server); prints one markdown
# line with messages per second, the time, and the import process's peak RSS.
#
#   scripts/bench_import.sh 1000000     (make bench runs it with 1,000,000 messages,
#                                        make bench-quick with 100,000)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
MESSAGES=${1:-1000000}
OUT="$ROOT/target/bench/import"
mkdir -p "$OUT"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
CONFAB="$TARGET_DIR/release/confab"
[ -x "$CONFAB" ] || cargo build --release --bin confab >&2
FILE="$OUT/chat-$MESSAGES.json"
if [ ! -s "$FILE" ]; then
    echo "bench-import: generating $FILE" >&2
    python3 bench/import/gen_dumpdata.py --messages "$MESSAGES" --out "$FILE.part" && mv "$FILE.part" "$FILE"
fi
PSQL=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1)
BASE_DB_URL="${DATABASE_URL:-$(scripts/pg.sh url)}"
ADMIN_URL="${BASE_DB_URL%/*}/postgres"
DB="confab_bench_import_$$"
trap '"$PSQL" "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
"$PSQL" "$ADMIN_URL" -qc "CREATE DATABASE \"$DB\"" >/dev/null
export DATABASE_URL="${BASE_DB_URL%/*}/$DB" CONFAB__DATABASE__URL="${BASE_DB_URL%/*}/$DB"
export CONFAB__AUTH__JWT_SECRET="bench-import-secret-bench-import-secret"
"$CONFAB" migrate >/dev/null
/usr/bin/time -f "%e %M" -o "$OUT/time" "$CONFAB" import django --file "$FILE" ${IMPORT_ARGS:-} > "$OUT/report.txt"
read -r SECS RSS_KB < "$OUT/time"
STORED=$("$PSQL" "$DATABASE_URL" -tAc "SELECT count(*) FROM messages")
RATE=$(python3 -c "print(f'{$STORED / $SECS:,.0f}')")
SIZE=$(du -mL "$FILE" | cut -f1)
echo "| import (seed 004 dumpdata, ${SIZE} MB) | $STORED messages | ${SECS} s | **$RATE msg/s** | peak RSS $((RSS_KB / 1024)) MiB |"
