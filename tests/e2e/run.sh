#!/usr/bin/env bash
# End-to-end tests of the web client (static/) in Debian's headless Chromium.
#
#   tests/e2e/run.sh              build and start `confab serve` on a free port against a fresh
#                                 database on the private cluster (scripts/pg.sh), run the tests
#   E2E_SERVER=mock tests/e2e/run.sh   against tests/e2e/mock-server.mjs instead (client work only)
#   E2E_BASE_URL=http://host:port tests/e2e/run.sh   against a server that already runs
#
# Installs what is missing: Debian's chromium (apt-get; never a browser download) and
# playwright-core (npm ci into tests/e2e/node_modules). Screenshots (desktop and phone width) go
# to target/e2e/screenshots/, logs to target/e2e/. Ends with "N passed, N failed"; exits non-zero
# on any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OUT="$ROOT/target/e2e"
mkdir -p "$OUT/screenshots"
rm -f "$OUT"/screenshots/*.png
E2E_DIR="$ROOT/tests/e2e"

say() { echo "e2e: $*" >&2; }

# --- Chromium (Debian's package) -----------------------------------------------------------------
CHROMIUM="${E2E_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    say "installing Debian's chromium"
    $SUDO apt-get update -qq
    # The emoji font only makes reactions readable in the screenshots; the tests do not need it.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-color-emoji >"$OUT/apt.log" 2>&1 \
        || { tail -20 "$OUT/apt.log" >&2; say "apt-get install chromium failed"; exit 1; }
fi

# --- playwright-core (no browser download: it drives the Chromium above) ------------------------
if [ ! -f "$E2E_DIR/node_modules/playwright-core/package.json" ] || [ ! -f "$E2E_DIR/node_modules/ws/package.json" ]; then
    say "installing playwright-core"
    (cd "$E2E_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) >"$OUT/npm.log" 2>&1 \
        || { cat "$OUT/npm.log" >&2; say "npm ci failed"; exit 1; }
fi

PSQL=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1 || true)
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

SERVER_PID=""
DB_NAME=""
ADMIN_URL=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [ -n "$DB_NAME" ] && [ -z "${E2E_KEEP_DB:-}" ]; then
        "$PSQL" "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

wait_up() {
    local url=$1 i
    for i in $(seq 1 120); do
        if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$url" 2>/dev/null; then return 0; fi
        if [ -n "$SERVER_PID" ] && ! kill -0 "$SERVER_PID" 2>/dev/null; then return 1; fi
        sleep 0.5
    done
    return 1
}

if [ -n "${E2E_BASE_URL:-}" ]; then
    BASE="$E2E_BASE_URL"
elif [ "${E2E_SERVER:-confab}" = mock ]; then
    PORT=$(free_port)
    BASE="http://127.0.0.1:$PORT"
    node "$E2E_DIR/mock-server.mjs" "$PORT" >"$OUT/server.log" 2>&1 &
    SERVER_PID=$!
    wait_up "$BASE/" || { cat "$OUT/server.log" >&2; say "the mock server did not start"; exit 1; }
    say "mock server on $BASE (NOT the real server)"
else
    PROFILE="${E2E_PROFILE:-debug}"
    TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
    if [ -z "${E2E_NO_BUILD:-}" ]; then
        say "building confab ($PROFILE)"
        if [ "$PROFILE" = release ]; then cargo build --release --bin confab; else cargo build --bin confab; fi
    fi
    BIN="$TARGET/$PROFILE/confab"
    [ -x "$BIN" ] || { say "no binary at $BIN"; exit 1; }
    # A fresh database per run, on the private cluster (or on DATABASE_URL's server).
    BASE_DB_URL="${DATABASE_URL:-$(scripts/pg.sh url)}"
    ADMIN_URL="${BASE_DB_URL%/*}/postgres"
    DB_NAME="confab_e2e_$(date +%s)_$$"
    "$PSQL" "$ADMIN_URL" -qc "CREATE DATABASE \"$DB_NAME\"" >/dev/null
    PORT=$(free_port)
    BASE="http://127.0.0.1:$PORT"
    # A host platform's page on another origin (embed.test.mjs): it may frame the embed page and
    # load the SDK.
    E2E_HOST_PORT=$(free_port)
    HOST_ORIGIN="http://127.0.0.1:$E2E_HOST_PORT"
    CSP="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self' $HOST_ORIGIN"
    JWT_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
    mkdir -p "$OUT/uploads"
    DATABASE_URL="${BASE_DB_URL%/*}/$DB_NAME" \
    CONFAB__SERVER__HOST=127.0.0.1 \
    CONFAB__SERVER__PORT="$PORT" \
    CONFAB__SERVER__ALLOWED_ORIGINS="$BASE,http://localhost:$PORT,$HOST_ORIGIN" \
    CONFAB__SERVER__CONTENT_SECURITY_POLICY="$CSP" \
    CONFAB__AUTH__JWT_SECRET="$JWT_SECRET" \
    CONFAB__UPLOADS__DIR="$OUT/uploads" \
    CONFAB__LINK_PREVIEWS__ALLOW_HOSTS=127.0.0.1 \
    CONFAB__LINK_PREVIEWS__DIRECT_TENANTS=00000000-0000-0000-0000-000000000001 \
    RUST_LOG="${RUST_LOG:-info}" \
        "$BIN" serve >"$OUT/server.log" 2>&1 &
    SERVER_PID=$!
    wait_up "$BASE/healthz" || { tail -30 "$OUT/server.log" >&2; say "the server did not start"; exit 1; }
    # A token as a host platform would mint it, for the #token= sign-in scenario.
    E2E_PLATFORM_NAME="Carol Platform"
    E2E_PLATFORM_TOKEN=$(DATABASE_URL="${BASE_DB_URL%/*}/$DB_NAME" CONFAB__AUTH__JWT_SECRET="$JWT_SECRET" \
        "$BIN" token --user-id "$(node -e 'console.log(crypto.randomUUID())')" --name "$E2E_PLATFORM_NAME" --ttl-secs 3600 2>>"$OUT/server.log" || true)
    E2E_JWT_SECRET="$JWT_SECRET"
    export E2E_PLATFORM_NAME E2E_PLATFORM_TOKEN E2E_JWT_SECRET E2E_HOST_PORT
    say "confab ($PROFILE) on $BASE, database $DB_NAME"
fi

# --- the tests -----------------------------------------------------------------------------------
set +e
E2E_BASE_URL="$BASE" E2E_SCREENSHOTS="$OUT/screenshots" E2E_CHROMIUM="$CHROMIUM" \
    node --test --test-concurrency=1 \
        --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$OUT/results.tap" \
        "$E2E_DIR/chat.test.mjs" "$E2E_DIR/embed.test.mjs"
STATUS=$?
set -e

PASSED=$(grep -E '^# pass ' "$OUT/results.tap" | awk '{print $3}' || true)
FAILED=$(grep -E '^# fail ' "$OUT/results.tap" | awk '{print $3}' || true)
SKIPPED=$(grep -E '^# skipped ' "$OUT/results.tap" | awk '{print $3}' || true)
PASSED=${PASSED:-0}; FAILED=${FAILED:-0}; SKIPPED=${SKIPPED:-0}
if [ "$STATUS" != 0 ] && [ "$FAILED" = 0 ]; then FAILED=1; fi
say "screenshots in ${OUT#"$ROOT"/}/screenshots/"
if [ "$SKIPPED" != 0 ]; then echo "e2e: $PASSED passed, $FAILED failed, $SKIPPED skipped"; else echo "e2e: $PASSED passed, $FAILED failed"; fi
[ "$STATUS" = 0 ] && [ "$FAILED" = 0 ]
