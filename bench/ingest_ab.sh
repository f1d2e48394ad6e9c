#!/bin/bash
# Ingest A/B (issue 18): the same release server and PostgreSQL, alternating a database as
# migrated ("plain") with one changed by SQL right after the server started ("changed"), e.g.
#   bench/ingest_ab.sh "DROP INDEX messages_search; ALTER TABLE messages DROP COLUMN search;"
# Needs `cargo build --release -p confab -p loadgen` and the private PostgreSQL (scripts/pg.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
CHANGE=${1:?usage: bench/ingest_ab.sh "SQL run on the changed database"}
ROUNDS=${ROUNDS:-2}
URL=$(scripts/pg.sh url)
BASE=${URL%/*}
REL=${CARGO_TARGET_DIR:-target}/release
SECRET=ingest-ab-secret-ingest-ab-secret-0123
run() { # label, SQL (may be empty)
    psql -q "$BASE/postgres" -c "DROP DATABASE IF EXISTS ingest_ab WITH (FORCE)" \
        -c "CREATE DATABASE ingest_ab" > /dev/null 2>&1
    local port=$((20000 + RANDOM % 10000))
    DATABASE_URL="$BASE/ingest_ab" RUST_LOG=warn CONFAB__SERVER__PORT=$port \
    CONFAB__AUTH__JWT_SECRET=$SECRET CONFAB__SERVER__ALLOWED_ORIGINS='*' \
    CONFAB__RATE_LIMITS__WS_FRAMES_PER_SEC=100000 CONFAB__RATE_LIMITS__WS_BURST=100000 \
    CONFAB__RATE_LIMITS__MESSAGES_PER_MINUTE=10000000 CONFAB__LIMITS__MAX_CONNECTIONS_PER_USER=1000 \
        "$REL/confab" serve > "/tmp/ingest-ab-$1.log" 2>&1 &
    local pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.2; done
    [ -z "$2" ] || psql -q "$BASE/ingest_ab" -c "$2"
    local out; out=$("$REL/loadgen" run --target confab --scenario ingest --addr "127.0.0.1:$port" \
        --jwt-secret $SECRET --server-pid $pid --senders 100 --duration 10 --warmup 2 --grace 10 \
        --out "/tmp/ingest-ab-$1.json" 2>/dev/null)
    echo "$1 (load $(cut -d' ' -f1 /proc/loadavg)): $(echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("%.0f acked msg/s, ack p99 %s ms, correct: %s"
      % (r["throughput"], r["latency"]["p99_ms"], r["correctness"]["ok"]))')"
    kill $pid; wait $pid 2> /dev/null || true
}
for round in $(seq "$ROUNDS"); do
    run "plain-$round" ""
    run "changed-$round" "$CHANGE"
done
