#!/usr/bin/env bash
# Starts the whole platform with demo data and simulated stations:
#   - csms demo   seeds users, stations and id tokens
#   - csms serve  REST API, OCPP server, console, metrics (in the background)
#   - evsim       DEMO_STATIONS (default 5) simulated stations SIM-1..SIM-n
# Ctrl-C stops the simulators, then the server. Logs go to var/log/.
# With no DATABASE_URL, csms runs its own PostgreSQL under ./var/pg.
# CSMS_LISTEN overrides the listen address (default 127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi

LISTEN="${CSMS_LISTEN:-127.0.0.1:8080}"
STATIONS="${DEMO_STATIONS:-5}"
# Where clients connect: a wildcard listen address is reached through loopback.
case "$LISTEN" in
    0.0.0.0:*) CONNECT="127.0.0.1:${LISTEN##*:}" ;;
    "[::]:"*)  CONNECT="[::1]:${LISTEN##*:}" ;;
    *)         CONNECT="$LISTEN" ;;
esac
HTTP="http://$CONNECT"
WS="ws://$CONNECT"
LOG_DIR=var/log

echo "==> cargo build --release -p csms -p simulators"
cargo build --release -p csms -p simulators
CSMS="${CARGO_TARGET_DIR:-target}/release/csms"
EVSIM="${CARGO_TARGET_DIR:-target}/release/evsim"
mkdir -p "$LOG_DIR"

# Background processes get a session of their own so the terminal's Ctrl-C reaches only this
# script, which then stops them in order (simulators first, then the server). A prefix, not a
# function: `setsid prog &` execs in place, so $! is the program's own pid.
DETACH=()
command -v setsid >/dev/null 2>&1 && DETACH=(setsid)

SERVER_PID=""
SIM_PIDS=()

# Sends SIGTERM to the given pids and waits up to $1 seconds, then SIGKILLs what is left.
stop_pids() {
    local timeout=$1; shift
    [ "$#" -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null || true
    local waited=0
    while [ "$waited" -lt $((timeout * 10)) ]; do
        local alive=0
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" -eq 0 ] && break
        sleep 0.1
        waited=$((waited + 1))
    done
    for p in "$@"; do
        if kill -0 "$p" 2>/dev/null; then
            echo "    pid $p did not stop in ${timeout}s; killing it" >&2
            kill -KILL "$p" 2>/dev/null || true
        fi
    done
    wait "$@" 2>/dev/null || true
}

CLEANED=0
cleanup() {
    [ "$CLEANED" -eq 0 ] || return 0
    CLEANED=1
    trap - INT TERM
    if [ "${#SIM_PIDS[@]}" -gt 0 ]; then
        echo "==> stopping ${#SIM_PIDS[@]} simulated stations"
        stop_pids 10 "${SIM_PIDS[@]}"
    fi
    if [ -n "$SERVER_PID" ]; then
        echo "==> stopping the server"
        stop_pids 60 "$SERVER_PID"
    fi
    echo "==> demo stopped (logs in $LOG_DIR/)"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "==> seeding demo data (csms demo)"
"$CSMS" demo

echo "==> starting the server on $LISTEN (log: $LOG_DIR/csms.log)"
# hosts are paid every minute from 0.01 up, so a demo session's host share shows up soon
${DETACH[@]+"${DETACH[@]}"} "$CSMS" serve --dev --unknown-stations accept --listen "$LISTEN" \
    --host-transfers-secs 60 --host-transfer-min-cents 1 >"$LOG_DIR/csms.log" 2>&1 &
SERVER_PID=$!

healthy() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null --max-time 2 "$HTTP/healthz" 2>/dev/null
    else
        # No curl: a bare HTTP/1.0 request over bash's /dev/tcp.
        local host=${CONNECT%:*} port=${CONNECT##*:}
        host=${host#[}; host=${host%]}
        (exec 3<>"/dev/tcp/$host/$port" &&
            printf 'GET /healthz HTTP/1.0\r\nHost: %s\r\n\r\n' "$CONNECT" >&3 &&
            head -n 1 <&3 | grep -q ' 200 ') 2>/dev/null
    fi
}
echo -n "    waiting for $HTTP/healthz "
for _ in $(seq 1 120); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo
        echo "demo.sh: the server exited during start-up; last lines of $LOG_DIR/csms.log:" >&2
        tail -n 30 "$LOG_DIR/csms.log" >&2 || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
        exit 1
    fi
    if healthy; then break; fi
    echo -n "."
    sleep 0.5
done
if ! healthy; then
    echo
    echo "demo.sh: $HTTP/healthz did not answer within 60 s; see $LOG_DIR/csms.log" >&2
    exit 1
fi
echo " up"

echo "==> starting $STATIONS simulated stations"
for i in $(seq 1 "$STATIONS"); do
    id="SIM-$i"
    ${DETACH[@]+"${DETACH[@]}"} "$EVSIM" station --url "$WS/ocpp/$id" >"$LOG_DIR/evsim-$id.log" 2>&1 &
    SIM_PIDS+=($!)
done

cat <<BANNER

  EV charging platform demo is running.

    REST API      $HTTP/api/
    OCPP 2.0.1    $WS/ocpp/{stationId}   (subprotocol ocpp2.0.1; unknown stations accepted)
    Metrics       http://127.0.0.1:9464/metrics (on $HTTP/metrics with an operator token)
    Health        $HTTP/healthz

  Demo logins (password: demo-password)
    admin@demo.local      operator@demo.local      driver@demo.local

  Simulated stations: SIM-1 .. SIM-$STATIONS  (logs: $LOG_DIR/evsim-SIM-*.log)
  Server log: $LOG_DIR/csms.log

  Press Ctrl-C to stop.

BANNER

# Wait for the server; Ctrl-C interrupts the wait and the EXIT trap stops everything in order.
set +e
wait "$SERVER_PID"
status=$?
set -e
echo "demo.sh: the server exited (status $status); last lines of $LOG_DIR/csms.log:" >&2
tail -n 20 "$LOG_DIR/csms.log" >&2 || true
SERVER_PID=""
exit "$status"
