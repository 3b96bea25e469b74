#!/usr/bin/env bash
# Bookings over HTTP on loopback (POST /api/bookings, real server, real PostgreSQL):
#   1. spread     each request books a random port of BENCH_LISTINGS synthetic listings
#                 (1-4 ports each) for a random hour of the next 60 days: few conflicts
#   2. contended  every request wants one port, a random hour of the next 30 days: most
#                 answer 409; afterwards a query proves no two live bookings overlap
# Each run lasts BENCH_SECONDS with BENCH_CONNECTIONS requests in flight (closed loop; 16
# drivers' tokens in rotation). The database is made afresh every run under
# var/pg-bench-bookings. Tunables: BENCH_LISTINGS (2000), BENCH_SECONDS (15),
# BENCH_CONNECTIONS (16), BENCH_DB_CONNECTIONS (8), BENCH_ADDR (127.0.0.1:18482).
# Uses wrk and psql (installed by scripts/setup.sh --bench).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

LISTINGS=${BENCH_LISTINGS:-2000}
SECONDS_=${BENCH_SECONDS:-15}
CONNS=${BENCH_CONNECTIONS:-16}
DB_CONNS=${BENCH_DB_CONNECTIONS:-8}
ADDR=${BENCH_ADDR:-127.0.0.1:18482}
PG_DIR=var/pg-bench-bookings
DB=bench_bookings_$(date +%s)

./scripts/setup.sh --bench
cargo build --release -p csms
CSMS="${CARGO_TARGET_DIR:-target}/release/csms"
export RUST_LOG=${RUST_LOG:-warn,sqlx=error}

DATABASE_URL=$("$CSMS" pg up --dir "$PG_DIR" --database "$DB" | sed -n 's/^DATABASE_URL=//p')
export DATABASE_URL
ulimit -n "$(ulimit -Hn)"
"$CSMS" migrate
"$CSMS" demo --synthetic "$LISTINGS" --seed 7 >/dev/null

"$CSMS" serve --listen "$ADDR" --metrics-listen 127.0.0.1:0 --db-max-connections "$DB_CONNS" >var/bench-bookings-csms.out 2>var/bench-bookings-csms.log &
CSMS_PID=$!
cleanup() {
    kill -TERM "$CSMS_PID" 2>/dev/null || true
    wait "$CSMS_PID" 2>/dev/null || true
    psql -q "$DATABASE_URL" -c "SELECT 1" >/dev/null 2>&1 &&
        psql -q "${DATABASE_URL/\/$DB?//postgres?}" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    "$CSMS" pg down --dir "$PG_DIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do
    grep -q "csms ready" var/bench-bookings-csms.out 2>/dev/null && break
    kill -0 "$CSMS_PID" 2>/dev/null || { tail -n 20 var/bench-bookings-csms.log >&2; exit 1; }
    sleep 0.2
done

echo "== 16 drivers sign up and log in"
TOKENS=()
for i in $(seq 1 16); do
    email="bench-driver-$i@bench.local"
    "$CSMS" user add --email "$email" --password "bench-password-$i" --role driver >/dev/null
    TOKENS+=("$(curl -s -X POST "http://$ADDR/api/auth/login" -H 'content-type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"bench-password-$i\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')")
done

LUA=var/bench-bookings.lua
{
    echo "local tokens = {"
    printf '  "%s",\n' "${TOKENS[@]}"
    echo "}"
    echo "local ports = {"
    psql -Atq "$DATABASE_URL" -F ' ' -c \
        "SELECT '  {\"' || listing_id || '\",\"' || id || '\"},' FROM listing_ports ORDER BY listing_id, id"
    echo "}"
    cat <<'LUA'
local mode = os.getenv("BENCH_MODE")
local hour0 = math.floor(os.time() / 3600) + 24   -- from tomorrow, whole hours (UTC)
function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
local function iso(h)
  return os.date("!%Y-%m-%dT%H:00:00Z", h * 3600)
end
function request()
  local p, h
  if mode == "contended" then
    p = ports[1]; h = hour0 + math.random(0, 30 * 24 - 1)
  else
    p = ports[math.random(#ports)]; h = hour0 + math.random(0, 60 * 24 - 1)
  end
  wrk.headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
  local body = string.format('{"charger_id":"%s","port_id":"%s","start_time":"%s","end_time":"%s"}',
    p[1], p[2], iso(h), iso(h + 1))
  return wrk.format(nil, nil, nil, body)
end
-- per-thread counters (globals, so done() can read them through thread:get)
created, conflicts, other = 0, 0, 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  if status == 201 then created = created + 1
  elseif status == 409 then conflicts = conflicts + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local c, k, o = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created"); k = k + t:get("conflicts"); o = o + t:get("other")
  end
  io.write(string.format("RESULT %s: %d created (%.0f/s), %d conflicts (409), %d other\n",
    mode, c, c / secs, k, o))
  io.write(string.format("RESULT %s: %.0f bookings/s answered (%d requests), "
    .. "p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms; socket errors %d\n",
    mode, summary.requests / secs, summary.requests,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
} >"$LUA"
echo "   $(grep -c '^  {' "$LUA") ports of $LISTINGS listings"

for mode in spread contended; do
    echo "== $mode: $CONNS connections, ${SECONDS_}s"
    BENCH_MODE=$mode wrk -t1 -c"$CONNS" -d"${SECONDS_}s" --latency -s "$LUA" \
        "http://$ADDR/api/bookings" | grep -E "RESULT|Non-2xx"
    psql -Atq "$DATABASE_URL" -c "SELECT '   ' || count(*) || ' bookings stored, ' || count(DISTINCT port_id) || ' ports' FROM bookings"
done
FIRST_PORT=$(sed -n '/^local ports/{n;p}' "$LUA" | sed 's/.*,"\([^"]*\)"}.*/\1/')
echo "== the contended port ($FIRST_PORT)"
psql -Atq "$DATABASE_URL" <<SQL
SELECT '   ' || count(*) || ' live bookings hold it' FROM bookings
 WHERE port_id = '$FIRST_PORT' AND status IN ('pending','confirmed','checked_in','charging');
SELECT '   overlapping live pairs (must be 0): ' || count(*) FROM bookings a JOIN bookings b
  ON a.port_id = b.port_id AND a.id < b.id AND a.period && b.period
 WHERE a.status IN ('pending','confirmed','checked_in','charging')
   AND b.status IN ('pending','confirmed','checked_in','charging');
SQL
