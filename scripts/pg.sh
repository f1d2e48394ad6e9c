#!/usr/bin/env bash
# Private PostgreSQL for `make run` and `make test` when DATABASE_URL is unset.
#
#   scripts/pg.sh url     start (or reuse) the cluster under target/pg and print its DATABASE_URL
#   scripts/pg.sh stop    stop it
#   scripts/pg.sh status  say whether it runs (and where)
#   scripts/pg.sh destroy stop it and delete its data
#
# The cluster listens on 127.0.0.1 (a free port, remembered in target/pg/port) and on a unix socket
# in target/pg/sock, trusts local connections, and is reused on the next call. As root it runs the
# server as the `postgres` user, because PostgreSQL refuses to run as root.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGROOT="$ROOT/target/pg"
DBNAME="${CONFAB_DB_NAME:-confab}"

die() { echo "pg.sh: $*" >&2; exit 1; }

find_bin() {
    local d
    for d in "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")" \
             $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
            echo "$d"; return 0
        fi
    done
    return 1
}

PGBIN=$(find_bin) || die "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH \
or in /usr/lib/postgresql/*/bin. Install them (on Debian/Ubuntu: apt-get install -y postgresql), \
or set DATABASE_URL to a server you already run."
PSQL="$PGBIN/psql"; [ -x "$PSQL" ] || PSQL=$(command -v psql) || die "psql was not found (apt-get install -y postgresql-client)"

AS_ROOT=0; [ "$(id -u)" = 0 ] && AS_ROOT=1

as_pg() {
    if [ "$AS_ROOT" = 1 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The cluster's real directory. A checkout under a private directory (such as /root, or one made by
# `mktemp -d`) cannot be entered by `postgres`: as root the cluster then lives in /var/tmp, linked
# from target/pg for people, and `postgres` is always handed the real path, never the link's.
ALT="/var/tmp/confab-pg-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)"
LINK="$ROOT/target/pg"
if [ -L "$LINK" ]; then PGROOT=$(readlink -f "$LINK"); fi

prepare_dirs() {
    mkdir -p "$ROOT/target"
    if [ "$AS_ROOT" = 1 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres \
            || die "running as root needs a 'postgres' user to run the server as, and creating one failed"
        if [ ! -L "$LINK" ]; then mkdir -p "$LINK"; chown postgres: "$LINK"; fi
        if ! runuser -u postgres -- test -w "$PGROOT/" 2>/dev/null; then
            [ -L "$LINK" ] || rm -rf "$LINK"
            mkdir -p "$ALT"; chown postgres: "$ALT"; chmod 700 "$ALT"
            ln -sfn "$ALT" "$LINK"
            PGROOT="$ALT"
            runuser -u postgres -- test -w "$PGROOT/" || die "the postgres user cannot write to $PGROOT"
        fi
    else
        mkdir -p "$PGROOT"
    fi
    mkdir -p "$PGROOT/sock"; [ "$AS_ROOT" = 1 ] && chown postgres: "$PGROOT/sock"
    chmod 700 "$PGROOT/sock"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null && return
    local p
    for p in $(seq 55432 55999); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
    die "no free TCP port found"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() { as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" status >/dev/null 2>&1; }

start() {
    prepare_dirs
    if [ ! -f "$PGROOT/data/PG_VERSION" ]; then
        echo "pg.sh: creating a private PostgreSQL cluster in $PGROOT/data" >&2
        as_pg "$PGBIN/initdb" -D "$PGROOT/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$PGROOT/initdb.log" 2>&1 \
            || { cat "$PGROOT/initdb.log" >&2; die "initdb failed (log above)"; }
    fi
    if ! running; then
        local port
        port=$(cat "$PGROOT/port" 2>/dev/null || true)
        if [ -z "$port" ] || port_in_use "$port"; then port=$(free_port); fi
        echo "$port" > "$PGROOT/port"
        as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w -t 60 \
            -o "-p $port -k $PGROOT/sock -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=256MB" \
            start >/dev/null || { tail -20 "$PGROOT/server.log" >&2; die "PostgreSQL did not start (log above)"; }
    fi
    local port; port=$(cat "$PGROOT/port")
    if [ "$("$PSQL" -h "$PGROOT/sock" -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")" != 1 ]; then
        "$PSQL" -h "$PGROOT/sock" -p "$port" -U postgres -d postgres -qc "CREATE DATABASE \"$DBNAME\"" >/dev/null
    fi
    echo "postgres://postgres@127.0.0.1:$port/$DBNAME"
}

case "${1:-url}" in
    url) start ;;
    stop) if [ -d "$PGROOT/data" ] && running; then as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -m fast stop >/dev/null; fi ;;
    status) if [ -d "$PGROOT/data" ] && running; then echo "running on port $(cat "$PGROOT/port") in $PGROOT"; else echo "stopped"; fi ;;
    # Stop and delete the cluster (and its /var/tmp directory when it lives there).
    destroy) if [ -d "$PGROOT/data" ] && running; then as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -m fast stop >/dev/null; fi
             rm -rf "$PGROOT"; rm -rf "$LINK" ;;
    *) die "usage: scripts/pg.sh [url|stop|status|destroy]" ;;
esac
