#!/usr/bin/env bash
# Test for scripts/pg.sh: a private cluster starts, answers, stops and is destroyed from a checkout
# under a private (0700) directory and from one under an ordinary directory. As root, the private
# case must keep the cluster outside the checkout (in /var/tmp) and hand `postgres` that real path.
# Ends with "pg.sh test: PASS" or "pg.sh test: FAIL: <why>" (exit status 1).
set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=()
fail() { echo "pg.sh test: FAIL: $*"; cleanup; exit 1; }
cleanup() {
    local d
    for d in "${WORK[@]}"; do
        [ -x "$d/checkout/scripts/pg.sh" ] && "$d/checkout/scripts/pg.sh" destroy >/dev/null 2>&1
        rm -rf "$d"
    done
}

# One case: a checkout (just scripts/pg.sh) in a fresh directory of mode $1.
run_case() {
    local mode=$1 dir co url answer
    dir=$(mktemp -d) || fail "mktemp"
    WORK+=("$dir")
    chmod "$mode" "$dir"
    co="$dir/checkout"
    mkdir -p "$co/scripts" && cp "$SRC/scripts/pg.sh" "$co/scripts/" || fail "copying pg.sh"
    url=$(CONFAB_DB_NAME=pgsh_test "$co/scripts/pg.sh" url 2>"$dir/err") \
        || fail "mode $mode: pg.sh url failed: $(cat "$dir/err")"
    answer=$(psql "$url" -tAc 'SELECT current_database()' 2>&1) \
        || fail "mode $mode: cannot query $url: $answer"
    [ "$answer" = pgsh_test ] || fail "mode $mode: expected database pgsh_test, got '$answer'"
    if [ "$(id -u)" = 0 ]; then
        if [ "$mode" = 700 ]; then
            [ -L "$co/target/pg" ] || fail "mode 700 as root: target/pg should link to /var/tmp"
            case "$(readlink -f "$co/target/pg")" in /var/tmp/confab-pg-*) ;; *) fail "mode 700: link points elsewhere";; esac
            # postgres was given the real path: its data_directory is not under the checkout.
            case "$(psql "$url" -tAc 'SHOW data_directory')" in
                "$co"*) fail "mode 700: postgres runs from a path inside the private directory";;
            esac
        else
            [ -d "$co/target/pg" ] && [ ! -L "$co/target/pg" ] || fail "mode $mode: target/pg should be a directory"
        fi
    fi
    # Reused on the second call, then stopped.
    [ "$("$co/scripts/pg.sh" url 2>/dev/null | sed 's/pgsh_test/confab/')" = "${url/pgsh_test/confab}" ] \
        || fail "mode $mode: a second call did not reuse the cluster"
    "$co/scripts/pg.sh" stop || fail "mode $mode: stop failed"
    [ "$("$co/scripts/pg.sh" status)" = stopped ] || fail "mode $mode: still running after stop"
    "$co/scripts/pg.sh" destroy || fail "mode $mode: destroy failed"
    echo "pg.sh test: mode $mode ok"
}

run_case 700
run_case 755
cleanup
echo "pg.sh test: PASS"
