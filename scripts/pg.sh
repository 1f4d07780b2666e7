#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (trust auth, fsync off, listening on 127.0.0.1 only).
#
#   eval "$(scripts/pg.sh up)"        # starts it; prints FINOPS_PG_DIR, FINOPS_PG_PORT, FINOPS_TEST_POSTGRES_URL
#   scripts/pg.sh down "$FINOPS_PG_DIR"   # stops it and removes its directory
#
# The port is $PGPORT, else 54329; when that one is taken the next free one is used. The data directory is a
# mktemp dir under /tmp (never under /root: as root the server runs as the `postgres` user, who must reach it).
set -euo pipefail

pg_bin() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        echo "pg.sh: no PostgreSQL server binaries under /usr/lib/postgresql (run scripts/ensure_system_deps.sh)" >&2
        return 1
    fi
    echo "$bin"
}

# run a command as the server's owner: `postgres` when we are root, else ourselves
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

up() {
    local bin dir port tries
    bin=$(pg_bin)
    dir=$(mktemp -d /tmp/finops-pg.XXXXXX)
    # on any failure below, leave nothing behind
    trap 'as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$dir"' ERR
    chmod 700 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; false; }
    port=${PGPORT:-54329}
    for tries in $(seq 1 20); do
        if ! port_busy "$port" && as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null 2>&1; then
            break
        fi
        if [ "$tries" -eq 20 ]; then
            echo "pg.sh: could not start PostgreSQL on ports ${PGPORT:-54329}..$port; server log:" >&2
            cat "$dir/log" >&2 2>/dev/null || true
            false
        fi
        port=$((port + 1))
    done
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres finops_test
    trap - ERR
    echo "export FINOPS_PG_DIR=$dir"
    echo "export FINOPS_PG_PORT=$port"
    echo "export FINOPS_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$port/finops_test"
}

down() {
    local dir=${1:?usage: pg.sh down DIR} bin
    case "$dir" in /tmp/finops-pg.*) ;; *) echo "pg.sh: refusing to remove $dir" >&2; return 1 ;; esac
    [ -d "$dir" ] || return 0
    bin=$(pg_bin) || true
    if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
            || as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 \
            || kill -KILL "$(head -1 "$dir/data/postmaster.pid")" 2>/dev/null || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    up) up ;;
    down) down "${2:-}" ;;
    *) echo "usage: $0 up | down DIR" >&2; exit 2 ;;
esac
