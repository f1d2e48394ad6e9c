#!/usr/bin/env bash
# Confab's benchmark: the five scenarios of issue 7 against Confab and its two peers (a Django
# Channels chat and a plain Node `ws` broadcast server), in one run on this machine, over loopback.
#
#   scripts/bench.sh            the issue's sizes (make bench)
#   scripts/bench.sh --quick    small sizes, same code (make bench-quick, under two minutes once built)
#   BENCH_TARGETS="node django" BENCH_SCENARIOS="ingest fanout" scripts/bench.sh --quick
#
# Writes target/bench/<timestamp>.jsonl (one line per scenario and server), <timestamp>.json and
# <timestamp>.md (the table), and copies the table to target/bench/latest.md. Every server is
# started fresh for each scenario, so CPU seconds and peak RSS belong to that scenario alone.
# Installs what the peers need: a virtualenv under target/bench/venv (PyPI), `ws` under
# target/bench/node (npm), and redis-server (apt) for the Channels layer when it is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT="$ROOT/target/bench"
mkdir -p "$OUT"

QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
TARGETS=${BENCH_TARGETS:-"confab django node"}
SCENARIOS=${BENCH_SCENARIOS:-"ingest fanout rooms idle storm import webhook cluster retention"}
TS=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS="$OUT/$TS.jsonl"
NOTES="$OUT/$TS.notes"
: > "$RESULTS"; : > "$NOTES"
CARGO=${CARGO:-cargo}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
LOADGEN="$TARGET_DIR/release/loadgen"
CONFAB="$TARGET_DIR/release/confab"
VENV="$OUT/venv"
NODE_DIR="$OUT/node"

log() { echo "bench: $*" >&2; }
note() { echo "- $*" >> "$NOTES"; log "$*"; }

# Sizes: the issue's, or small ones for a quick run. Same scenarios, same code.
if [ "$QUICK" = 1 ]; then
    COMMON=(--warmup 1 --grace 2)
    INGEST=(--senders 20 --duration 2)
    FANOUT=(--subscribers 100 --rate 50 --duration 2)
    ROOMS=(--connections 500 --room-size 10 --rate 100 --duration 2)
    IDLE=(--connections 1000 --duration 2)
    STORM=(--connections 500 --room-size 10 --rate 50 --duration 2 --jitter-ms 1000 --resume-timeout 30 --after-resume 1)
    IMPORT_MESSAGES=100000
    RETENTION=(--old 2000 --baseline 100)
    CMD="make bench-quick"
else
    COMMON=(--warmup 2 --grace 10)
    INGEST=(--senders 100 --duration 30)
    FANOUT=(--subscribers 1000 --rate 100 --duration 30)
    ROOMS=(--connections 10000 --room-size 10 --rate 1000 --duration 30)
    IDLE=(--connections 50000 --duration 30)
    STORM=(--connections 10000 --room-size 10 --rate 1000 --duration 10 --jitter-ms 5000 --resume-timeout 120)
    IMPORT_MESSAGES=1000000
    RETENTION=(--old 10000 --baseline 300)
    CMD="make bench"
fi

# Open files: every connection is a descriptor in the load generator and in the server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
if [ "$NOFILE" != unlimited ]; then
    # Each process needs a descriptor per connection plus its own; leave headroom.
    MAXCONN=$((NOFILE - 1000))
    if [ "${IDLE[1]}" -gt "$MAXCONN" ]; then
        note "idle: ${IDLE[1]} connections need more descriptors than this machine's hard nofile limit ($NOFILE, which this user cannot raise): measured with $MAXCONN"
        IDLE[1]=$MAXCONN
    fi
fi

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_http() { # url, pid
    local i
    for i in $(seq 1 300); do
        if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

stop_pid() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

# ---- builds and installs -------------------------------------------------------------------
log "building the load generator and Confab (release)"
# One build of both, so that their shared dependencies are built once with the same features.
nice "$CARGO" build --release -p loadgen -p confab >&2

DB_URL=$(scripts/pg.sh url)
DB_BASE=${DB_URL%/*}
PG_PID=$(head -1 target/pg/data/postmaster.pid)
PSQL=(psql -q -v ON_ERROR_STOP=1 "$DB_BASE/postgres")
# A new database for each run, after a checkpoint: the pages the previous run dirtied are written
# now, not on the next run's time (a full ingest run leaves ~1 GB of WAL behind it).
fresh_db() { # name
    "${PSQL[@]}" -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\"" \
        -c "CHECKPOINT" >/dev/null
}

if echo "$TARGETS" | grep -qw django; then
    if [ ! -x "$VENV/bin/daphne" ] || ! cmp -s bench/peers/django/requirements.txt "$VENV/requirements.txt"; then
        log "installing the Django Channels peer into $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q -r bench/peers/django/requirements.txt >&2
        cp bench/peers/django/requirements.txt "$VENV/requirements.txt"
    fi
    if ! command -v redis-server >/dev/null; then
        log "installing redis-server (the Channels layer)"
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
    fi
fi
if echo "$TARGETS" | grep -qw node; then
    if ! cmp -s bench/peers/node/package.json "$NODE_DIR/package.json" || [ ! -d "$NODE_DIR/node_modules/ws" ]; then
        log "installing the Node peer's ws into $NODE_DIR"
        mkdir -p "$NODE_DIR"; cp bench/peers/node/package.json "$NODE_DIR/"
        (cd "$NODE_DIR" && npm install --no-audit --no-fund --silent >&2)
    fi
fi

# Durable commits wait for the disk: say how fast this one flushes (full runs only; it takes ~15 s).
if [ "$QUICK" = 0 ]; then
    PG_TEST_FSYNC=$(ls /usr/lib/postgresql/*/bin/pg_test_fsync 2>/dev/null | sort -V | tail -1 || true)
    if [ -n "$PG_TEST_FSYNC" ]; then
        FSYNC=$("$PG_TEST_FSYNC" -s 1 -f "$OUT/fsync.test" 2>/dev/null | awk '/^ *fdatasync/ {print $2; exit}' || true)
        rm -f "$OUT/fsync.test"
        [ -n "$FSYNC" ] && note "this disk: $FSYNC fdatasync/s with one 8 kB write (pg_test_fsync), the ceiling of unbatched durable commits"
    fi
fi

# ---- servers -------------------------------------------------------------------------------
# Each start_* sets SERVER_PIDS (comma list, for CPU and RSS) and PORT, and adds to PIDS.
JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')
export LOADGEN_JWT_SECRET="$JWT_SECRET"

# A Confab node on the bench database, port $1, logging to $2, in the background (the bench's
# settings: no rate limits in the way of the load).
confab_node() {
    DATABASE_URL="$DB_BASE/confab_bench" RUST_LOG=warn \
    CONFAB__SERVER__PORT=$1 CONFAB__AUTH__JWT_SECRET="$JWT_SECRET" \
    CONFAB__SERVER__ALLOWED_ORIGINS='*' \
    CONFAB__RATE_LIMITS__WS_FRAMES_PER_SEC=100000 CONFAB__RATE_LIMITS__WS_BURST=100000 \
    CONFAB__RATE_LIMITS__MESSAGES_PER_MINUTE=10000000 \
    CONFAB__LIMITS__MAX_CONNECTIONS_PER_USER=1000 \
    CONFAB__RETENTION__SWEEP_INTERVAL_SECS="${SWEEP_SECS:-300}" \
        "$CONFAB" serve > "$2" 2>&1 &
}

start_confab() {
    PORT=$(free_port)
    fresh_db confab_bench
    confab_node "$PORT" "$OUT/$TS-confab.log"
    local pid=$!
    PIDS+=("$pid"); SERVER_PIDS=$pid; MAIN_PID=$pid
    wait_http "http://127.0.0.1:$PORT/healthz" "$pid"
}

start_django() {
    PORT=$(free_port)
    local rport; rport=$(free_port)
    redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning \
        > "$OUT/$TS-redis.log" 2>&1 &
    local rpid=$!; PIDS+=("$rpid")
    (cd bench/peers/django && exec env DATABASE_URL="$DB_BASE/django_bench" REDIS_URL="redis://127.0.0.1:$rport/0" \
        "$VENV/bin/daphne" -b 127.0.0.1 -p "$PORT" chatpeer.asgi:application) > "$OUT/$TS-django.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid"); SERVER_PIDS="$pid,$rpid"; MAIN_PID="$pid $rpid"
    wait_http "http://127.0.0.1:$PORT/healthz" "$pid"
}

start_node() {
    PORT=$(free_port)
    NODE_PATH="$NODE_DIR/node_modules" PORT=$PORT node bench/peers/node/server.js > "$OUT/$TS-node.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid"); SERVER_PIDS=$pid; MAIN_PID=$pid
    wait_http "http://127.0.0.1:$PORT/healthz" "$pid"
}

if echo "$TARGETS" | grep -qw django; then
    fresh_db django_bench
    (cd bench/peers/django && DATABASE_URL="$DB_BASE/django_bench" "$VENV/bin/python" manage.py migrate --noinput -v 0)
fi

# Confab's realtime API lands in stages: say so instead of failing the whole run.
confab_has_ws() {
    start_confab || return 1
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/ws/chat/")
    for p in $MAIN_PID; do stop_pid "$p"; done
    [ "$code" != 404 ]
}

# ---- issue 18: the webhook guard, the dialect clients and the cluster ----------------------
# `webhook`: the ingest run again with an endpoint subscribed to message.created (a receiver on
# this machine that answers at once), reported beside plain ingest with the ratio. `rooms`: one
# receiver per room speaks seed 004's socket. `cluster`: two Confab nodes on one database and a
# Redis of their own; senders on node A, receivers on node B (one user per room on both), run
# twice: as is, and with Redis restarted halfway through the measured window.
ROOMS+=(--dialect-clients)
if [ "$QUICK" = 1 ]; then
    CLUSTER=(--connections 500 --room-size 10 --rate 100 --duration 4 --warmup 1 --grace 20)
else
    CLUSTER=(--connections 10000 --room-size 10 --rate 1000 --duration 30 --warmup 2 --grace 30)
fi
REDIS_CLUSTER_ARGS="--bind 127.0.0.1 --save '' --appendonly no --loglevel warning --daemonize yes"

# A second Confab node on the database start_confab made (same settings, its own port).
start_confab_b() {
    PORT_B=$(free_port)
    confab_node "$PORT_B" "$OUT/$TS-confab-b.log"
    local pid=$!
    PIDS+=("$pid"); SERVER_PIDS="$SERVER_PIDS,$pid"; MAIN_PID="$MAIN_PID $pid"
    wait_http "http://127.0.0.1:$PORT_B/healthz" "$pid"
}

# Issue 14's guard: plain ingest and ingest with the endpoint, in pairs one after the other (so
# drift in a shared machine falls on both sides); the report compares the pairs' sums.
run_webhook() {
    local hport; hport=$(free_port)
    chrt --idle 0 "$LOADGEN" receive --port "$hport" > "$OUT/$TS-webhook.log" 2>&1 &
    local hpid=$!; PIDS+=("$hpid")
    local pair
    for pair in 1 2; do
        run_guard "guard $pair" ""
        run_guard "guard $pair" "http://127.0.0.1:$hport/hook"
    done
    local ticks; ticks=$(awk '{print $14 + $15}' "/proc/$hpid/stat" 2>/dev/null || echo 0)
    note "webhook guard: the receiver (standing in for the platform's server, which a deployment runs elsewhere) used $(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t / hz}') s of CPU on this machine over the two runs with the endpoint"
    stop_pid "$hpid"
}

run_guard() { # label, webhook URL (empty: plain ingest)
    local hook=() what="confab ingest"
    [ -n "$2" ] && hook=(--webhook-url "$2") && what="confab ingest+webhook"
    log "$what ${INGEST[*]} ($1)"
    if CONFAB__WEBHOOKS__ALLOW_INSECURE_HOSTS=127.0.0.1 start_confab; then
        "$LOADGEN" run --target confab --scenario ingest --addr "127.0.0.1:$PORT" "${hook[@]}" \
            --label "$1" --server-pid "$SERVER_PIDS" --db-pid "$PG_PID" --out "$RESULTS" \
            "${COMMON[@]}" "${INGEST[@]}" > /dev/null || note "$what ($1): the load generator failed"
    else
        note "$what ($1): the server did not start"
    fi
    for p in $MAIN_PID; do stop_pid "$p"; done
}

run_cluster() { # label, mid-run command (may be empty)
    local rport; rport=$(free_port)
    local up="redis-server --port $rport $REDIS_CLUSTER_ARGS"
    eval "$up" > "$OUT/$TS-redis-cluster.log" 2>&1
    log "confab cluster ${CLUSTER[*]} ($1)"
    local mid=()
    [ -n "$2" ] && mid=(--mid-run-command "$(printf "$2" "$rport" "$up")")
    if CONFAB__BROKER__REDIS_URL="redis://127.0.0.1:$rport" start_confab \
        && CONFAB__BROKER__REDIS_URL="redis://127.0.0.1:$rport" start_confab_b; then
        "$LOADGEN" run --target confab --scenario cluster --addr "127.0.0.1:$PORT" \
            --addr-b "127.0.0.1:$PORT_B" --label "$1" --server-pid "$SERVER_PIDS" \
            --db-pid "$PG_PID" --out "$RESULTS" "${mid[@]}" "${CLUSTER[@]}" > /dev/null \
            || note "confab cluster ($1): the load generator failed"
    else
        note "confab cluster ($1): a node did not start (target/bench/$TS-confab*.log)"
    fi
    for p in $MAIN_PID; do stop_pid "$p"; done
    redis-cli -p "$rport" shutdown nosave > /dev/null 2>&1 || true
}

run_issue18() {
    echo "$TARGETS" | grep -qw confab || return 0
    if [[ " $SCENARIOS " == *" webhook "* ]]; then run_webhook; fi
    if [[ " $SCENARIOS " == *" cluster "* ]]; then
        run_cluster "Redis up" ""
        run_cluster "Redis restarted mid-run" \
            "redis-cli -p %s shutdown nosave >/dev/null 2>&1; sleep 1; %s"
    fi
}

# ---- the runs ------------------------------------------------------------------------------
for target in $TARGETS; do
    if [ "$target" = confab ] && ! confab_has_ws; then
        note "confab: skipped: this build of the server has no /ws/chat/ endpoint yet"
        continue
    fi
    for scenario in $SCENARIOS; do
        case $scenario in
            import|retention) continue ;; # Confab's alone, after the runs
            webhook|cluster) continue ;; # Confab's alone, after the runs (issue 18's block)
            ingest) SIZES=("${INGEST[@]}") ;;
            fanout) SIZES=("${FANOUT[@]}") ;;
            rooms) SIZES=("${ROOMS[@]}") ;;
            idle) SIZES=("${IDLE[@]}") ;;
            storm) SIZES=("${STORM[@]}") ;;
            *) log "unknown scenario $scenario"; exit 2 ;;
        esac
        log "$target $scenario ${SIZES[*]}"
        if ! "start_$target"; then
            note "$target $scenario: the server did not start (see target/bench/$TS-$target.log)"
            for p in $MAIN_PID; do stop_pid "$p"; done
            continue
        fi
        if ! "$LOADGEN" run --target "$target" --scenario "$scenario" --addr "127.0.0.1:$PORT" \
                --server-pid "$SERVER_PIDS" --db-pid "$PG_PID" --out "$RESULTS" "${COMMON[@]}" "${SIZES[@]}" > /dev/null; then
            note "$target $scenario: the load generator failed (its message is above in the run's output)"
        fi
        for p in $MAIN_PID; do stop_pid "$p"; done
    done
done

run_issue18
"$LOADGEN" report --input "$RESULTS" --json "$OUT/$TS.json" --markdown "$OUT/$TS.md" \
    --command "$CMD" --date "$(date -u '+%Y-%m-%d %H:%M UTC')"
if [[ " $SCENARIOS " == *" import "* && " $TARGETS " == *" confab "* ]]; then
    log "confab import $IMPORT_MESSAGES messages"
    if LINE=$(scripts/bench_import.sh "$IMPORT_MESSAGES"); then
        { echo; echo "Import (confab alone; the peers have no importer):"; echo; echo "$LINE"; } >> "$OUT/$TS.md"
    else
        note "import: the run failed (target/bench/import/report.txt)"
    fi
fi
if [[ " $SCENARIOS " == *" retention "* && " $TARGETS " == *" confab "* ]]; then
    log "confab retention ${RETENTION[*]}"
    # The sweeper looks every second, so the sweep starts as soon as the cap is set.
    if SWEEP_SECS=1 start_confab && LINE=$("$LOADGEN" retention --addr "127.0.0.1:$PORT" "${RETENTION[@]}"); then
        { echo; echo "Retention (confab alone: one writer while the sweeper removes the room's old history):"; echo; echo "$LINE"; } >> "$OUT/$TS.md"
    else
        note "retention: the run failed (its message is above in the run's output)"
    fi
    for p in $MAIN_PID; do stop_pid "$p"; done
fi
if [ -s "$NOTES" ]; then { echo; echo "Notes:"; cat "$NOTES"; } >> "$OUT/$TS.md"; fi
cp "$OUT/$TS.md" "$OUT/latest.md"
cat "$OUT/$TS.md"
log "wrote $OUT/$TS.json and $OUT/$TS.md"
