#!/usr/bin/env bash
# The OCPP benchmarks of BENCHMARKS.md, on loopback only, bounded in count and time:
#   1. schema validation cost per message (ocpp-schemas example)
#   2. reconnect storm: N stations connecting and booting at once
#   3. memory per idle connected station at N stations (server RSS delta / N)
#   4. mixed OCPP load with persistence at 10,000 msg/s (latency targets) and at BENCH_RATE
#      (throughput target): messages/s achieved, latency percentiles per action
#   5. Heartbeat-only load at a fixed rate (latency percentiles)
#   6. wsblast, a plain closed-loop client apart from evsim (each station one WebSocket sending
#      CALLs back to back): TransactionEvents, MeterValues of 10 samples, and the mixed load
# Tunables: BENCH_STATIONS (10000), BENCH_MIXED_STATIONS (2000), BENCH_RATE (16000 msg/s),
# BENCH_HB_RATE (10000 msg/s), BENCH_SECONDS (30), BENCH_BLAST_STATIONS (200). Uses DATABASE_URL or a private cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

STATIONS=${BENCH_STATIONS:-10000}
MIXED_STATIONS=${BENCH_MIXED_STATIONS:-2000}
RATE=${BENCH_RATE:-16000}
HB_RATE=${BENCH_HB_RATE:-10000}
SECONDS_=${BENCH_SECONDS:-30}
ADDR=${BENCH_ADDR:-127.0.0.1:18480}

./scripts/setup.sh
cargo build --release -p csms -p simulators
CSMS="${CARGO_TARGET_DIR:-target}/release/csms"
EVSIM="${CARGO_TARGET_DIR:-target}/release/evsim"
WSBLAST="${CARGO_TARGET_DIR:-target}/release/wsblast"
BLAST_STATIONS=${BENCH_BLAST_STATIONS:-200}

echo "== 1. schema validation cost"
cargo run --release -q -p ocpp-schemas --example validate_bench

PG_DIR=var/pg-bench
if [ -z "${DATABASE_URL:-}" ]; then
    DATABASE_URL=$("$CSMS" pg up --dir "$PG_DIR" --database "bench_$(date +%s)" | sed -n 's/^DATABASE_URL=//p')
    STOP_PG=1
fi
export DATABASE_URL
ulimit -n "$(ulimit -Hn)"

"$CSMS" serve --dev --listen "$ADDR" --metrics-listen 127.0.0.1:0 --unknown-stations accept --heartbeat-interval 3600 \
    --ws-ping-interval 300 >var/bench-csms.out 2>var/bench-csms.log &
CSMS_PID=$!
cleanup() {
    kill -TERM "$CSMS_PID" 2>/dev/null || true
    wait "$CSMS_PID" 2>/dev/null || true
    if [ "${STOP_PG:-0}" = 1 ]; then "$CSMS" pg down --dir "$PG_DIR" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
for _ in $(seq 1 100); do
    grep -q "csms ready" var/bench-csms.out 2>/dev/null && break
    kill -0 "$CSMS_PID" 2>/dev/null || { tail -n 20 var/bench-csms.log >&2; exit 1; }
    sleep 0.2
done
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$CSMS_PID/status"; }

echo "== 2+3. reconnect storm and memory per idle station ($STATIONS stations)"
before=$(rss_kb)
"$EVSIM" load --url "ws://$ADDR/ocpp" --stations "$STATIONS" --connect-only --hold 15s \
    --duration 60s --prefix IDLE- --threads 1 >var/bench-idle.txt 2>&1 &
EV_PID=$!
# Sample the server: the peak during the storm, and the last sample while (nearly) all
# stations are still connected and idle, which is the per-idle-station figure.
peak=0
idle=0
port=${ADDR##*:}
while kill -0 "$EV_PID" 2>/dev/null; do
    r=$(rss_kb); [ "$r" -gt "$peak" ] && peak=$r
    conns=$(ss -tn state established "( sport = :$port )" | wc -l)
    [ "$conns" -gt $((STATIONS * 99 / 100)) ] && idle=$r
    sleep 1
done
wait "$EV_PID" || true
cat var/bench-idle.txt
echo "server RSS before: ${before} KiB, idle with $STATIONS stations: ${idle} KiB, peak: ${peak} KiB"
awk -v a="$before" -v b="$idle" -v p="$peak" -v n="$STATIONS" 'BEGIN {
    printf "memory per idle station: %.1f KB (peak during the storm: %.1f KB)\n", (b - a) * 1.024 / n, (p - a) * 1.024 / n }'
sleep 3

echo "== 4a. mixed load: $MIXED_STATIONS stations, 10000 msg/s, ${SECONDS_}s"
"$EVSIM" load --url "ws://$ADDR/ocpp" --stations "$MIXED_STATIONS" --rate 10000 \
    --duration "${SECONDS_}s" --ramp 1s --prefix MIX- --threads 1

echo "== 4b. mixed load: $MIXED_STATIONS stations, $RATE msg/s, ${SECONDS_}s"
"$EVSIM" load --url "ws://$ADDR/ocpp" --stations "$MIXED_STATIONS" --rate "$RATE" \
    --duration "${SECONDS_}s" --ramp 1s --prefix MAX- --threads 1

echo "== 5. heartbeats only: $MIXED_STATIONS stations, $HB_RATE msg/s, ${SECONDS_}s"
"$EVSIM" load --url "ws://$ADDR/ocpp" --stations "$MIXED_STATIONS" --rate "$HB_RATE" \
    --mix heartbeat=100 --duration "${SECONDS_}s" --ramp 1s --prefix HB- --threads 1

for mix in tx meter mixed; do
    echo "== 6. wsblast closed loop: $BLAST_STATIONS stations, mix $mix, ${SECONDS_}s"
    "$WSBLAST" --url "ws://$ADDR/ocpp" --stations "$BLAST_STATIONS" --seconds "$SECONDS_" \
        --mix "$mix" --samples 10 --prefix "BLAST-$mix-"
done
