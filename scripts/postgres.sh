#!/usr/bin/env bash
# Start or stop a throw-away PostgreSQL server on 127.0.0.1 for the test suite (used by .ci/run).
#   eval "$(bash scripts/postgres.sh start)"   # prints: export STAFFING_TEST_POSTGRES_URL=... PGTEST_DIR=...
#   bash scripts/postgres.sh stop "$PGTEST_DIR"
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
case "${1:-}" in
start)
    dir=$(mktemp -d /tmp/staffing-pg.XXXXXX)
    port=${PGTEST_PORT:-54329}
    run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    run "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >/dev/null
    run "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=60" start >/dev/null
    run "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres staffing_test
    echo "export PGTEST_DIR=$dir STAFFING_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$port/staffing_test"
    ;;
stop)
    dir=${2:?usage: postgres.sh stop DIR}
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    else "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null; fi
    rm -rf "$dir"
    ;;
*) echo "usage: postgres.sh start|stop DIR" >&2; exit 2 ;;
esac
