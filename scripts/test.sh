#!/usr/bin/env bash
# The project's test command: `bash scripts/test.sh [extra cargo test args]`.
#
# Runs `cargo test --workspace` against both backends. SQLite needs nothing; for PostgreSQL:
# - if TEST_POSTGRES_URL is set, that server is used;
# - else, if PostgreSQL binaries are installed, a throwaway server is started with
#   scripts/pg-test-server.sh (and stopped at exit, unless it was already running or
#   TENANT_TEST_PG_KEEP=1);
# - else the PostgreSQL tests are skipped with a loud warning (outside CI; under CI they fail).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
pg="$here/pg-test-server.sh"

started=0
cleanup() {
    if [[ "$started" -eq 1 && "${TENANT_TEST_PG_KEEP:-0}" != 1 ]]; then
        bash "$pg" stop || true
    fi
}
trap cleanup EXIT

have_pg_binaries() {
    [[ -n "${PG_BIN:-}" && -x "${PG_BIN}/initdb" ]] && return 0
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

if [[ -z "${TEST_POSTGRES_URL:-}" ]]; then
    if have_pg_binaries; then
        if bash "$pg" status; then
            TEST_POSTGRES_URL="$(bash "$pg" url)"
        else
            TEST_POSTGRES_URL="$(bash "$pg" start)"
            started=1
        fi
        export TEST_POSTGRES_URL
        echo "test.sh: PostgreSQL tests use $TEST_POSTGRES_URL" >&2
    else
        echo "test.sh: WARNING: no PostgreSQL binaries and TEST_POSTGRES_URL unset: PostgreSQL tests will be skipped" >&2
    fi
else
    echo "test.sh: PostgreSQL tests use TEST_POSTGRES_URL from the environment" >&2
fi

cd "$root"

# The OpenAPI 3.1 validator of tests/tests/openapi.rs: openapi-spec-validator (PyPI), in a venv
# under target/ (kept between runs). Without Python or the registry the check is skipped with a
# warning, except under CI, where the test fails.
if [[ -z "${OPENAPI_VALIDATOR_PYTHON:-}" ]]; then
    venv="$root/target/openapi-venv"
    if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c "import openapi_spec_validator" 2>/dev/null \
        || { python3 -m venv "$venv" && "$venv/bin/pip" install -q "openapi-spec-validator==0.9.0"; }; then
        export OPENAPI_VALIDATOR_PYTHON="$venv/bin/python"
    else
        echo "test.sh: WARNING: could not install openapi-spec-validator: the OpenAPI validation is skipped" >&2
    fi
fi

status=0
cargo test --workspace --no-fail-fast "$@" || status=$?
exit "$status"
