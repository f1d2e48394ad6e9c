#!/usr/bin/env bash
# The JavaScript SDK's tests (tests/sdk/sdk.test.mjs) in Node against the real server: a fresh
# database on the private cluster (scripts/pg.sh, or DATABASE_URL's server), the built confab
# binary (the test file starts and restarts it), `ws` from the e2e suite's pinned node_modules.
#   tests/sdk/run.sh            (SDK_NO_BUILD=1 skips `cargo build`)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OUT="$ROOT/target/sdk"
mkdir -p "$OUT"
say() { echo "sdk: $*" >&2; }

if [ ! -f tests/e2e/node_modules/ws/package.json ]; then
    say "installing ws (tests/e2e's pinned node_modules)"
    (cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) >"$OUT/npm.log" 2>&1 \
        || { cat "$OUT/npm.log" >&2; exit 1; }
fi

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
[ -n "${SDK_NO_BUILD:-}" ] || cargo build --bin confab
BIN="$TARGET/debug/confab"
[ -x "$BIN" ] || { say "no binary at $BIN"; exit 1; }

PSQL=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1 || true)
BASE_DB_URL="${DATABASE_URL:-$(scripts/pg.sh url)}"
ADMIN_URL="${BASE_DB_URL%/*}/postgres"
DB_NAME="confab_sdk_$(date +%s)_$$"
"$PSQL" "$ADMIN_URL" -qc "CREATE DATABASE \"$DB_NAME\"" >/dev/null
cleanup() { "$PSQL" "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT
: >"$OUT/server.log"

SDK_BIN="$BIN" SDK_DATABASE_URL="${BASE_DB_URL%/*}/$DB_NAME" SDK_LOG="$OUT/server.log" \
SDK_JWT_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')" \
    node --test --test-concurrency=1 --test-reporter=spec tests/sdk/sdk.test.mjs
