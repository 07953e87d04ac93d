#!/usr/bin/env bash
# Runs a throwaway PostgreSQL server on loopback for the test suite.
# Usage: postgres.sh start DIR PORT   -> prints a DATABASE_URL
#        postgres.sh stop DIR
set -euo pipefail
action=${1:?usage: postgres.sh start|stop DIR [PORT]}
dir=${2:?data directory}
bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
# PostgreSQL refuses to run as root; as root, run it as the postgres account.
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case $action in
  start)
    port=${3:?port}
    mkdir -p "$dir"
    [ "$(id -u)" != 0 ] || chown postgres "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      run "$bin/initdb" -D "$dir" -U console --auth=trust -E UTF8 >/dev/null
    fi
    run "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null
    # The database the URL names (the test runner makes its own test_ database beside it).
    run "$bin/createdb" -h 127.0.0.1 -p "$port" -U console console 2>/dev/null || true
    echo "postgres://console@127.0.0.1:$port/console"
    ;;
  stop)
    [ -f "$dir/postmaster.pid" ] && run "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null || true
    ;;
esac
