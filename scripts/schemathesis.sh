#!/usr/bin/env bash
# Property-based test of the live demo app against its own OpenAPI document, with schemathesis
# (PyPI), on SQLite and on PostgreSQL: `bash scripts/schemathesis.sh`.
#
# For each backend it starts the demo app on a free port (a SQLite file in a temp dir; a fresh
# PostgreSQL database, dropped afterwards), signs up a user, creates a few customers, products and
# invoices so that reads find data, then runs `schemathesis run` over every operation of
# /api/openapi.json as that user (an admin of their company), with a bounded number of examples
# and a fixed seed. It fails on any 5xx, a status code the document does not list, a body,
# content type or header that does not match the document (the checks are listed below). Every
# operation is tested; none is excluded.
#
# Environment:
#   SCHEMATHESIS_SEED          the seed (default 20240612); a failure is reproduced with it
#   SCHEMATHESIS_MAX_EXAMPLES  examples per operation and phase (default 100: about a minute
#                              per backend on 2 cores)
#   SCHEMATHESIS_CHECKS, SCHEMATHESIS_EXCLUDE_CHECKS  override the checks (see below)
#   SCHEMATHESIS_EXTRA_ARGS    more `schemathesis run` arguments (e.g. `--phases stateful`)
#   SCHEMATHESIS_BACKENDS      "sqlite postgres" (default), or one of them
#   SCHEMATHESIS_PYTHON        a python3 to build the venv with (default python3)
#   TEST_POSTGRES_URL          a superuser URL; else scripts/pg-test-server.sh's server (started
#                              here, and stopped at exit, if it was not running)
#   SCHEMATHESIS_REPORT_DIR    where to keep the reports (default target/schemathesis-report)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

SCHEMATHESIS_VERSION=4.32.5
seed="${SCHEMATHESIS_SEED:-20240612}"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-100}"
backends="${SCHEMATHESIS_BACKENDS:-sqlite postgres}"
report_dir="${SCHEMATHESIS_REPORT_DIR:-$root/target/schemathesis-report}"

log() { echo "schemathesis.sh: $*" >&2; }

# --- the venv, kept between runs -------------------------------------------------------------
venv="$root/target/schemathesis-venv"
if ! [[ -x "$venv/bin/schemathesis" ]] \
    || [[ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "$SCHEMATHESIS_VERSION" ]]; then
    log "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
    "${SCHEMATHESIS_PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
python="$venv/bin/python"

# --- the demo app ----------------------------------------------------------------------------
cargo build -q -p demo-app
bin="$root/target/debug/demo-app"

work="$(mktemp -d)"
server_pid=""
pg_started=0
pg_url=""
pg_db=""

stop_server() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}

if command -v psql >/dev/null 2>&1; then
    psql_bin=psql
else
    psql_bin="$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n1 || true)"
fi

drop_database() {
    if [[ -n "$pg_db" ]]; then
        "$psql_bin" -q -X "$pg_url" -c "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null || true
        pg_db=""
    fi
}

cleanup() {
    stop_server
    drop_database
    if [[ "$pg_started" -eq 1 ]]; then
        bash "$here/pg-test-server.sh" stop || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# POST $2 (JSON) to $1 with the bearer token; prints the body, fails unless the answer is 201.
post() {
    local status
    status="$(curl -sS -o "$work/body" -w '%{http_code}' -X POST "$base$1" \
        -H "Authorization: Bearer $access" -H 'Content-Type: application/json' -d "$2")"
    if [[ "$status" != 201 ]]; then
        log "POST $1 answered $status: $(cat "$work/body")"
        return 1
    fi
    cat "$work/body"
}

json_field() {
    "$python" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# Starts the app on DATABASE_URL=$1, signs up, creates data, runs schemathesis.
run_backend() {
    local name="$1" database_url="$2"
    local port
    port="$(free_port)"
    base="http://127.0.0.1:$port"
    mkdir -p "$work/mail-$name"
    echo
    echo "==== schemathesis: backend $name ($base)"
    local started=$SECONDS
    # Throttles raised: schemathesis signs up and logs in many times from one address, and sends
    # thousands of requests as one user in one company.
    DATABASE_URL="$database_url" BIND_ADDR="127.0.0.1:$port" \
        JWT_SECRET="schemathesis-run-secret-0123456789abcdef" \
        EMAIL_BACKEND=file EMAIL_FILE_DIR="$work/mail-$name" \
        ACCESS_TOKEN_TTL_SECS=3600 \
        THROTTLE_AUTH_ADDRESS=100000/min THROTTLE_AUTH_ACCOUNT=100000/min \
        THROTTLE_INVITATION_COMPANY=100000/min THROTTLE_INVITATION_ADDRESS=100000/min \
        THROTTLE_USER=100000/min THROTTLE_COMPANY=100000/min \
        MAX_COMPANIES_PER_USER=1000 MAX_PENDING_INVITATIONS_PER_COMPANY=100000 \
        RUST_LOG="${RUST_LOG:-warn}" \
        "$bin" serve >"$work/server-$name.log" 2>&1 &
    server_pid=$!
    local i
    for i in $(seq 1 120); do
        if curl -fsS "$base/healthz" >/dev/null 2>&1; then
            break
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            cat "$work/server-$name.log" >&2
            log "the demo app exited at start-up ($name)"
            return 1
        fi
        sleep 0.5
    done
    curl -fsS "$base/healthz" >/dev/null || { cat "$work/server-$name.log" >&2; log "no /healthz ($name)"; return 1; }

    # A member with data.
    local signup
    signup="$(curl -fsS -X POST "$base/api/auth/signup" -H 'Content-Type: application/json' \
        -d '{"email": "schemathesis@example.com", "password": "a long passphrase 4 testing", "company_name": "Schemathesis Ltd"}')"
    access="$(json_field access <<<"$signup")"
    company="$("$python" -c 'import json, sys; print(json.load(sys.stdin)["company"]["id"])' <<<"$signup")"
    local customer n
    for n in 1 2 3; do
        customer="$(post /api/customers "{\"name\": \"Customer $n\", \"email\": \"c$n@example.com\", \"phone\": \"+1 555 010$n\"}" | json_field id)"
        post /api/products "{\"sku\": \"SKU-$n\", \"name\": \"Product $n\", \"price_cents\": $((n * 1000))}" >/dev/null
        post /api/invoices "{\"customer_id\": \"$customer\", \"number\": \"INV-$n\", \"amount_cents\": $((n * 2500)), \"status\": \"sent\", \"issued_on\": \"2024-0$n-15\"}" >/dev/null
        post /api/invoices "{\"customer_id\": \"$customer\", \"number\": \"INV-$n-B\", \"amount_cents\": 0}" >/dev/null
    done

    local status=0
    # Every check but two: no 5xx; status codes, bodies, content types and headers as documented;
    # 405 with `Allow` for an undocumented method; 401 without the token; a deleted object is gone
    # and a created one is there (stateful). Left out:
    # - negative_data_rejection: the list parameters are read as DRF reads them, leniently:
    #   `page_size=0` or `page_size=x` falls back to the default page size and `page_size=500` is
    #   capped (PageNumberPagination), and an integer lookup past the column's range matches no
    #   row or every row (Django's integer overflow handling), all answered 200 by design;
    # - positive_data_acceptance: rules a JSON Schema cannot say (a password too common, a
    #   unique value already used, a customer of another company, a wrong token) answer 400/409.
    # Run from the temp dir: schemathesis and Hypothesis keep caches in the working directory, and
    # a cache from an earlier run would make this one depend on it.
    (cd "$work" && PYTHONPATH="$here" SCHEMATHESIS_HOOKS=schemathesis_hooks \
    "$venv/bin/schemathesis" run "$base/api/openapi.json" \
        --header "Authorization: Bearer $access" \
        --header "X-Company-Id: $company" \
        --checks "${SCHEMATHESIS_CHECKS:-all}" \
        --exclude-checks "${SCHEMATHESIS_EXCLUDE_CHECKS:-negative_data_rejection,positive_data_acceptance}" \
        --max-examples "$max_examples" \
        ${SCHEMATHESIS_EXTRA_ARGS:-} \
        --seed "$seed" \
        --generation-database none \
        --workers 2 \
        --request-timeout 30 \
        --no-color \
        --report junit --report-dir "$report_dir/$name") \
        || status=$?
    stop_server
    if [[ "$status" -ne 0 ]]; then
        log "server log ($name), last lines:"
        tail -n 40 "$work/server-$name.log" >&2 || true
    fi
    echo "==== schemathesis: backend $name finished in $((SECONDS - started)) s, exit $status"
    return "$status"
}

overall=0
for backend in $backends; do
    case "$backend" in
        sqlite)
            run_backend sqlite "sqlite:$work/schemathesis.db" || overall=1
            ;;
        postgres)
            if [[ -n "${TEST_POSTGRES_URL:-}" ]]; then
                pg_url="$TEST_POSTGRES_URL"
            elif bash "$here/pg-test-server.sh" status; then
                pg_url="$(bash "$here/pg-test-server.sh" url)"
            else
                pg_url="$(bash "$here/pg-test-server.sh" start)"
                pg_started=1
            fi
            pg_db="schemathesis_$$_$RANDOM"
            "$psql_bin" -q -X "$pg_url" -c "CREATE DATABASE \"$pg_db\"" >/dev/null
            # The same server, another database: the URL's last path segment replaced.
            run_backend postgres "${pg_url%/*}/$pg_db" || overall=1
            drop_database
            ;;
        *)
            log "unknown backend $backend (sqlite or postgres)"
            exit 2
            ;;
    esac
done
exit "$overall"
