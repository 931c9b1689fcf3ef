#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 cluster for the tests and exports AIMM_TEST_POSTGRES_URL.
# Source it (`. scripts/services/postgres.sh`): idempotent, it reuses a server already answering
# on the port. Data lives in /tmp/aimm-postgres-PORT (or $AIMM_PG_DATA; under /tmp because the
# `postgres` user may not reach into the checkout, e.g. below /root); loopback only, trust auth.
# PostgreSQL refuses to run as root, so when run as root the cluster belongs to the `postgres`
# user (Debian's postgresql package creates it).

. "$(dirname "${BASH_SOURCE[0]}")/install.sh"

aimm_pg_start() {
    local bin=/usr/lib/postgresql/15/bin
    local port=${AIMM_PG_PORT:-55432}
    local data=${AIMM_PG_DATA:-${TMPDIR:-/tmp}/aimm-postgres-$port}
    export AIMM_TEST_POSTGRES_URL="postgresql://aimm@127.0.0.1:$port/postgres"
    aimm_install_if_missing "$bin/pg_ctl" postgresql || return 1
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        return 0 # already running: reuse it
    fi
    local as=()
    if [ "$(id -u)" = 0 ]; then
        as=(runuser -u postgres --)
    fi
    mkdir -p "$data"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$data"
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        "${as[@]}" "$bin/initdb" -D "$data" -U aimm --auth=trust --encoding=UTF8 --no-locale \
            >"$data.initdb.log" 2>&1 || {
            cat "$data.initdb.log" >&2
            return 1
        }
    fi
    # The socket goes to the data directory: /var/run/postgresql may not exist or be writable.
    "${as[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $data -c max_connections=200" start >/dev/null || {
        cat "$data/server.log" >&2
        return 1
    }
}

aimm_pg_start
