#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite, on 127.0.0.1:54329 only.
#
#   scripts/pg-test-server.sh start   # create/initialise if needed, start, wait, print the URL
#   scripts/pg-test-server.sh stop    # stop it (no error if it is not running)
#   scripts/pg-test-server.sh status  # exit 0 if it answers, 1 otherwise
#   scripts/pg-test-server.sh url     # print the URL
#
# PostgreSQL refuses to run as root, so when run as root (CI) the server runs as an unprivileged
# user: the `postgres` system user if it exists, else one created with `useradd --system`.
# Run as any other user, the server runs as that user.
#
# Durability is switched off (fsync, synchronous_commit, full_page_writes): the data is disposable.
# Authentication is `trust`, which is acceptable only because the server listens on 127.0.0.1
# and its Unix socket lives in a directory that only the server's user can enter.
#
# pg_stat_statements is preloaded when the installation has it (command-line options, so a data
# directory made before this change gets it too on its next start): the bench reads statements per
# request from it. `pg_stat_statements.track=top` counts only top-level statements; the extension
# itself is created by the bench in its own databases only, so the tests see no difference.
#
# Environment overrides: PG_BIN (default /usr/lib/postgresql/15/bin, else the newest installed
# version), TENANT_TEST_PG_DIR (default /tmp/tenant-test-pg), TENANT_TEST_PG_PORT (default 54329),
# TENANT_TEST_PG_USER (the OS user to run as, when root; default postgres).
set -euo pipefail

PORT="${TENANT_TEST_PG_PORT:-54329}"
HOST=127.0.0.1
BASE="${TENANT_TEST_PG_DIR:-/tmp/tenant-test-pg}"
DATA="$BASE/data"
SOCK="$BASE/sock"
LOG="$BASE/server.log"
ROLE=postgres
URL="postgres://$ROLE@$HOST:$PORT/postgres"

log() { echo "pg-test-server: $*" >&2; }
die() { log "error: $*"; exit 1; }

find_bin() {
    if [[ -n "${PG_BIN:-}" ]]; then
        echo "$PG_BIN"
        return
    fi
    if [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then
        echo /usr/lib/postgresql/15/bin
        return
    fi
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
    [[ -n "$d" ]] || die "no PostgreSQL binaries under /usr/lib/postgresql (install postgresql-15, or set PG_BIN)"
    echo "$d"
}

BIN="$(find_bin)"
[[ -x "$BIN/initdb" && -x "$BIN/pg_ctl" && -x "$BIN/pg_isready" ]] || die "incomplete PostgreSQL binaries in $BIN"

is_ready() {
    "$BIN/pg_isready" -q -h "$HOST" -p "$PORT" -d postgres -U "$ROLE" -t 2 >/dev/null 2>&1
}

# The OS user the server runs as, and a way to run a command as that user.
if [[ "$(id -u)" -eq 0 ]]; then
    OS_USER="${TENANT_TEST_PG_USER:-postgres}"
    as_user() { (cd / && runuser -u "$OS_USER" -- "$@"); }
else
    OS_USER="$(id -un)"
    as_user() { (cd / && "$@"); }
fi

ensure_user() {
    if ! id -u "$OS_USER" >/dev/null 2>&1; then
        [[ "$(id -u)" -eq 0 ]] || die "user $OS_USER does not exist and only root can create it"
        log "creating system user $OS_USER"
        useradd --system --no-create-home --shell /usr/sbin/nologin "$OS_USER"
    fi
}

start() {
    if is_ready; then
        echo "$URL"
        return 0
    fi
    ensure_user
    mkdir -p "$BASE"
    # Serialise concurrent starts (two test runs at once).
    exec 9>"$BASE.lock"
    flock 9
    if is_ready; then
        echo "$URL"
        return 0
    fi
    mkdir -p "$DATA" "$SOCK"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown "$OS_USER" "$BASE" "$DATA" "$SOCK"
    fi
    chmod 700 "$DATA" "$SOCK"
    chmod 755 "$BASE"

    if [[ ! -f "$DATA/PG_VERSION" ]]; then
        log "initialising $DATA as $OS_USER"
        # A half-initialised directory from an interrupted run: start over.
        find "$DATA" -mindepth 1 -delete
        as_user "$BIN/initdb" -D "$DATA" -U "$ROLE" --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
            >"$BASE/initdb.log" 2>&1 || { cat "$BASE/initdb.log" >&2; die "initdb failed"; }
        cat >>"$DATA/postgresql.conf" <<EOF

# --- tenant test server (throwaway: durability off) ---
listen_addresses = '$HOST'
port = $PORT
unix_socket_directories = '$SOCK'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
EOF
        # Only loopback TCP, and the private socket directory.
        cat >"$DATA/pg_hba.conf" <<EOF
local all all trust
host  all all 127.0.0.1/32 trust
EOF
        if [[ "$(id -u)" -eq 0 ]]; then
            chown "$OS_USER" "$DATA/postgresql.conf" "$DATA/pg_hba.conf"
        fi
    fi
    touch "$LOG"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown "$OS_USER" "$LOG"
    fi

    local opts=()
    if [[ -f "$BIN/../lib/pg_stat_statements.so" ]]; then
        opts=(-o "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top")
    fi
    log "starting PostgreSQL ($BIN) on $HOST:$PORT, data in $DATA, log in $LOG"
    if ! as_user "$BIN/pg_ctl" -D "$DATA" -l "$LOG" "${opts[@]}" -w -t 60 start >/dev/null; then
        tail -n 30 "$LOG" >&2 || true
        die "the server did not start"
    fi
    local i
    for i in $(seq 1 60); do
        if is_ready; then
            echo "$URL"
            return 0
        fi
        sleep 0.5
    done
    tail -n 30 "$LOG" >&2 || true
    die "the server started but does not answer on $HOST:$PORT"
}

stop() {
    if [[ -f "$DATA/postmaster.pid" ]]; then
        as_user "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null 2>&1 || true
        log "stopped"
    else
        log "not running"
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) is_ready ;;
    url) echo "$URL" ;;
    *)
        echo "usage: $0 start|stop|status|url" >&2
        exit 2
        ;;
esac
