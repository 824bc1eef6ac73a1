#!/bin/sh
# A throwaway PostgreSQL for the tests (issue 16), in a temporary directory, listening only on
# a unix socket in that directory (no TCP port), stopped and removed at the end.
#
#   tests/pg/postgres.sh run CMD [ARG...]   start one, run CMD with ARALDO_TEST_PG set to its
#                                           connection string, stop it; CMD's exit status
#   tests/pg/postgres.sh start DIR          start one in DIR (empty or missing); prints the
#                                           connection string on stdout
#   tests/pg/postgres.sh stop DIR           stop the one in DIR and remove DIR
#   tests/pg/postgres.sh pause DIR          stop the one in DIR, keeping its data (an outage)
#   tests/pg/postgres.sh resume DIR         start it again after pause
#
# Skips (exit 0, one line on stderr, "run" does not run CMD) when PostgreSQL's server is not
# installed: scripts/install-deps.sh installs it. initdb refuses to run as root, which is how CI
# runs: then the server runs as the `postgres` user (made here if missing), by runuser or
# setpriv, and DIR is handed to that user.
set -eu

bindir=${ARALDO_PG_BINDIR:-}
if [ -z "$bindir" ]; then
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && bindir=$d
    done
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "postgres: skipped, PostgreSQL's server is not installed (scripts/install-deps.sh)" >&2
    [ "${1:-}" = start ] && exit 3
    exit 0
fi

# as_owner CMD...: run CMD as the unprivileged owner of the cluster
as_owner() {
    if [ "$(id -u)" != 0 ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u postgres -- "$@"
    else
        setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
    fi
}

serve() {
    as_owner "$bindir/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
        -o "-c listen_addresses= -k $1 -c max_connections=200" start >/dev/null || {
        cat "$1/server.log" >&2
        return 1
    }
}

start() {
    dir=$1
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 ||
            useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
        chown postgres "$dir"
        chmod 0700 "$dir"
    fi
    as_owner "$bindir/initdb" -D "$dir/data" -U araldo -A trust -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        return 1
    }
    # No TCP (listen_addresses ''), the socket in DIR; fsync stays on: the store's durability
    # tests mean what they say on this engine too.
    serve "$dir" || return 1
    as_owner "$bindir/createdb" -h "$dir" -U araldo araldo
    echo "host=$dir user=araldo dbname=araldo"
}

stop() {
    dir=$1
    [ -d "$dir/data" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop \
        >/dev/null 2>&1 || true
    rm -rf "$dir"
}

case "${1:-}" in
start)
    start "$2"
    ;;
stop)
    stop "$2"
    ;;
pause)
    as_owner "$bindir/pg_ctl" -D "$2/data" -m fast -w stop >/dev/null
    ;;
resume)
    serve "$2"
    ;;
run)
    shift
    dir=$(mktemp -d "${TMPDIR:-/tmp}/araldo-pg-XXXXXX")
    trap 'stop "$dir"' EXIT INT TERM
    ARALDO_TEST_PG=$(start "$dir")
    export ARALDO_TEST_PG
    status=0
    "$@" || status=$?
    exit $status
    ;;
*)
    echo "usage: tests/pg/postgres.sh run CMD... | start DIR | stop DIR" >&2
    exit 2
    ;;
esac
