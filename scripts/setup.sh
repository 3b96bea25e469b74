#!/usr/bin/env bash
# Installs what building, testing and running the platform needs on Debian/Ubuntu, and
# nothing when it is all there (then it is fast and silent).
#
#   scripts/setup.sh          PostgreSQL server + contrib + PostGIS, C toolchain, pkg-config
#   scripts/setup.sh --test   the same, plus cargo-nextest (scripts/test.sh falls back to
#                             `cargo test` when it cannot be installed) and schemathesis, the
#                             API fuzzer of tests/tests/schemathesis.rs, in a virtualenv under
#                             var/venv (python3 and its venv module from apt when missing)
#   scripts/setup.sh --bench  the same, plus wrk (the HTTP load generator of the benchmarks)
#
# Works as root (CI) and as a normal user (then apt-get runs through sudo).
# PG_MAJOR selects the PostgreSQL major version (default 15, Debian 12's).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

want_test=0
want_bench=0
for arg in "$@"; do
    case "$arg" in
        --test) want_test=1 ;;
        --bench) want_bench=1 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

# A toolchain installed by rustup may not be on PATH yet (fresh shell, sudo, CI).
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi

PG_MAJOR="${PG_MAJOR:-15}"
pkgs=()
# The server (initdb, pg_ctl, postgres): the embedded test/dev cluster runs these.
[ -x "/usr/lib/postgresql/$PG_MAJOR/bin/initdb" ] || pkgs+=("postgresql-$PG_MAJOR")
# contrib: btree_gist (booking EXCLUDE constraints) and earthdistance.
if [ ! -f "/usr/share/postgresql/$PG_MAJOR/extension/btree_gist.control" ] ||
   [ ! -f "/usr/share/postgresql/$PG_MAJOR/extension/earthdistance.control" ]; then
    pkgs+=(postgresql-contrib)
fi
[ -f "/usr/share/postgresql/$PG_MAJOR/extension/postgis.control" ] || pkgs+=("postgresql-$PG_MAJOR-postgis-3")
command -v psql >/dev/null 2>&1 || pkgs+=("postgresql-client-$PG_MAJOR")
# Build: a C compiler and linker (ring, cc-based build scripts), pkg-config.
command -v cc >/dev/null 2>&1 || pkgs+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || pkgs+=(pkg-config)
# The demo script waits for /healthz with curl.
command -v curl >/dev/null 2>&1 || pkgs+=(curl ca-certificates)
# The fuzzer is Python (3.11 or newer); a virtualenv keeps it off the system's Python.
SCHEMATHESIS_VERSION=4.32.5
VENV=var/venv
if [ "$want_test" -eq 1 ]; then
    if ! command -v python3 >/dev/null 2>&1; then
        pkgs+=(python3 python3-venv)
    elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        pkgs+=(python3-venv)
    fi
fi
if [ "$want_bench" -eq 1 ]; then
    command -v wrk >/dev/null 2>&1 || pkgs+=(wrk)
fi

if [ "${#pkgs[@]}" -gt 0 ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "setup.sh: missing: ${pkgs[*]}" >&2
        echo "setup.sh: no apt-get here; install the equivalents with your package manager" >&2
        echo "          (or set PG_BIN to the directory holding initdb and pg_ctl)." >&2
    else
        if [ "$(id -u)" -eq 0 ]; then
            as_root=()
        elif command -v sudo >/dev/null 2>&1; then
            as_root=(sudo)
        else
            echo "setup.sh: need to install ${pkgs[*]}, but not root and no sudo." >&2
            echo "          Run as root: apt-get update && apt-get install -y ${pkgs[*]}" >&2
            exit 1
        fi
        echo "==> installing ${pkgs[*]}"
        ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
    fi
fi

if [ "$want_test" -eq 1 ] && ! cargo nextest --version >/dev/null 2>&1; then
    echo "==> installing cargo-nextest (one-time; scripts/test.sh uses cargo test without it)"
    if ! cargo install cargo-nextest --locked; then
        echo "setup.sh: could not install cargo-nextest; tests will run with cargo test" >&2
    fi
fi

# The installed version, or nothing when the virtualenv or the package is missing.
schemathesis_version() {
    "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' \
        2>/dev/null || true
}
if [ "$want_test" -eq 1 ] && [ "$(schemathesis_version)" != "$SCHEMATHESIS_VERSION" ]; then
    echo "==> installing schemathesis $SCHEMATHESIS_VERSION into $VENV (one-time; the API fuzzer of the e2e tests)"
    if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "setup.sh: schemathesis needs Python 3.11 or newer, python3 is $(python3 --version 2>&1);" >&2
        echo "          the fuzzing test (tests/tests/schemathesis.rs) will fail" >&2
    # A virtualenv whose interpreter is gone (python3 upgraded, folder copied) is made anew.
    elif ! { "$VENV/bin/python" -c '' 2>/dev/null || python3 -m venv --clear "$VENV"; } ||
        ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            "schemathesis==$SCHEMATHESIS_VERSION"; then
        echo "setup.sh: could not install schemathesis; the fuzzing test will fail" >&2
    fi
fi
