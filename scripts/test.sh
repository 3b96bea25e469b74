#!/usr/bin/env bash
# The whole test suite, exactly what CI runs (.ci/run):
#   1. scripts/setup.sh --test (system packages, cargo-nextest)
#   2. one debug build of every target in the workspace, reused by the test run
#   3. a private PostgreSQL cluster under ./var/pg-test, unless DATABASE_URL is set
#      (#[sqlx::test] creates a database per test from DATABASE_URL)
#   4. cargo nextest run --workspace --no-fail-fast (+ doctests), or cargo test without nextest
# Extra arguments go to the test runner, e.g. scripts/test.sh -E 'test(booking)' (nextest).
# KEEP_TEST_DB=1 keeps the cluster's data from the previous run instead of starting afresh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh --test
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi

echo "==> cargo build --workspace --all-targets"
cargo build --workspace --all-targets

CSMS="${CARGO_TARGET_DIR:-target}/debug/csms"
PG_DIR=var/pg-test
if [ -z "${DATABASE_URL:-}" ]; then
    # Stop a cluster left over by an interrupted run, then start from a clean one.
    if [ -d "$PG_DIR" ]; then
        "$CSMS" pg down --dir "$PG_DIR"
        [ "${KEEP_TEST_DB:-0}" = 1 ] || rm -rf "$PG_DIR"
    fi
    trap '"$CSMS" pg down --dir "$PG_DIR" || echo "test.sh: could not stop the cluster in $PG_DIR" >&2' EXIT
    echo "==> starting PostgreSQL in $PG_DIR"
    up_out=$("$CSMS" pg up --throwaway --dir "$PG_DIR")
    DATABASE_URL=$(printf '%s\n' "$up_out" | sed -n 's/^DATABASE_URL=//p' | tail -n 1)
    if [ -z "$DATABASE_URL" ]; then
        printf '%s\n' "$up_out" >&2
        echo "test.sh: 'csms pg up' printed no DATABASE_URL=... line" >&2
        exit 1
    fi
    export DATABASE_URL
    echo "    DATABASE_URL=$DATABASE_URL"
else
    echo "==> using DATABASE_URL from the environment"
fi

status=0
if cargo nextest --version >/dev/null 2>&1; then
    echo "==> cargo nextest run --workspace --no-fail-fast"
    cargo nextest run --workspace --no-fail-fast "$@" || status=$?
    # nextest does not run doctests.
    if [ "$#" -eq 0 ]; then
        echo "==> cargo test --workspace --doc"
        cargo test --workspace --doc || status=$?
    fi
else
    echo "==> cargo test --workspace --no-fail-fast (cargo-nextest not installed)"
    cargo test --workspace --no-fail-fast "$@" || status=$?
fi

if [ "$status" -eq 0 ]; then
    echo "==> all tests passed"
else
    echo "==> tests FAILED (exit status $status)" >&2
fi
exit "$status"
