#!/usr/bin/env bash
# Search over HTTP on loopback against 1,000,000 synthetic listings:
#   1. POST /api/search/nearby  (limit 20 within 10 km, connector + power filters, points
#      inside city clusters)
#   2. POST /api/search/area    (city-zoom boxes of about 5 x 5 km, same filters, limit 100)
# Search is public: no account or token is needed.
# Each mode runs twice with wrk:
#   paced     BENCH_CONNECTIONS connections, each waiting an exponentially distributed pause
#             between requests so that together they offer about BENCH_RATE requests/s (the
#             target's rate); the latency percentiles are at that load.
#   saturated the same connections with no pause: the most the server sustains (its queueing
#             makes the latency of this run meaningless).
# The data lives in var/pg-bench-search and is seeded once (`csms demo --synthetic`, which
# ends with VACUUM (FREEZE, ANALYZE)), so reruns start at once.
# Tunables: BENCH_LISTINGS (1000000), BENCH_SECONDS (20), BENCH_CONNECTIONS (16),
# BENCH_RATE (2000), BENCH_DB_CONNECTIONS (8), BENCH_ADDR (127.0.0.1:18481).
# Uses `wrk` (installed by scripts/setup.sh --bench).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

LISTINGS=${BENCH_LISTINGS:-1000000}
SECONDS_=${BENCH_SECONDS:-20}
CONNS=${BENCH_CONNECTIONS:-16}
RATE=${BENCH_RATE:-2000}
DB_CONNS=${BENCH_DB_CONNECTIONS:-8}
ADDR=${BENCH_ADDR:-127.0.0.1:18481}
PG_DIR=var/pg-bench-search

./scripts/setup.sh --bench
cargo build --release -p csms
CSMS="${CARGO_TARGET_DIR:-target}/release/csms"
export RUST_LOG=${RUST_LOG:-warn,sqlx=error}

# A fixed database name: the seeded rows survive between runs.
DATABASE_URL=$("$CSMS" pg up --dir "$PG_DIR" --database bench_search | sed -n 's/^DATABASE_URL=//p')
export DATABASE_URL
ulimit -n "$(ulimit -Hn)"

echo "== seeding $LISTINGS synthetic listings (skipped when already there)"
"$CSMS" migrate
"$CSMS" demo --synthetic "$LISTINGS" --seed 42

"$CSMS" serve --listen "$ADDR" --metrics-listen 127.0.0.1:0 --db-max-connections "$DB_CONNS" >var/bench-search-csms.out 2>var/bench-search-csms.log &
CSMS_PID=$!
cleanup() {
    kill -TERM "$CSMS_PID" 2>/dev/null || true
    wait "$CSMS_PID" 2>/dev/null || true
    "$CSMS" pg down --dir "$PG_DIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do
    grep -q "csms ready" var/bench-search-csms.out 2>/dev/null && break
    kill -0 "$CSMS_PID" 2>/dev/null || { tail -n 20 var/bench-search-csms.log >&2; exit 1; }
    sleep 0.2
done

# The Lua side: varied bodies from the same city list as the synthetic data (the biggest
# clusters), and p50/p99/p99.9 at the end. Filters are top-level fields of the body, as
# `marketplace::search::http` reads them (unknown fields are a 422).
LUA=var/bench-search.lua
cat >"$LUA" <<'LUA'
local cities = {
  {51.507,-0.128,14},{48.857,2.352,10},{40.713,-74.006,14},{34.052,-118.244,20},
  {52.520,13.405,11},{40.417,-3.704,9},{41.878,-87.630,14},{43.653,-79.383,13},
  {41.903,12.496,9},{52.368,4.904,7},{53.551,9.994,9},{41.385,2.173,7},
  {48.137,11.576,8},{45.464,9.190,8},{37.775,-122.419,10},{48.208,16.373,8},
}
local filters = {
  '"connector_types":["CCS2","Type2"],"min_power_kw":11',
  '"connector_types":["Type2"]',
  '"min_power_kw":50,"available_now":true',
  '"max_price_per_kwh":0.45',
}
local mode = os.getenv("BENCH_MODE")
-- mean pause per connection so that all of them together offer BENCH_RATE requests/s
-- (0: no pause), less the time a request itself takes (about a millisecond)
local pause_ms = 0
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
if rate > 0 then
  pause_ms = math.max(0, tonumber(os.getenv("BENCH_CONNECTIONS")) * 1000 / rate - 1)
end
function delay()
  if pause_ms == 0 then return 0 end
  -- exponential pauses: arrivals look like independent drivers, not a metronome
  return math.floor(-math.log(1 - math.random()) * pause_ms + 0.5)
end
function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
local function point()
  local c = cities[math.random(#cities)]
  -- within about half the cluster's radius: where the listings are dense
  local km = c[3] * 0.5
  local lat = c[1] + (math.random() * 2 - 1) * km / 111.0
  local lon = c[2] + (math.random() * 2 - 1) * km / (111.0 * math.cos(math.rad(c[1])))
  return lat, lon
end
function request()
  local lat, lon = point()
  local f = filters[math.random(#filters)]
  local body
  if mode == "nearby" then
    body = string.format('{"latitude":%.6f,"longitude":%.6f,"radius_km":10,"limit":20,%s}',
      lat, lon, f)
  else
    local dlat = 2.5 / 111.0
    local dlon = 2.5 / (111.0 * math.cos(math.rad(lat)))
    body = string.format('{"min_lat":%.6f,"min_lon":%.6f,"max_lat":%.6f,"max_lon":%.6f,"limit":100,%s}',
      lat - dlat, lon - dlon, lat + dlat, lon + dlon, f)
  end
  return wrk.format(nil, nil, nil, body)
end
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %s %s: %.0f req/s achieved (%d requests, %d errors or non-2xx), "
    .. "p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n",
    mode, rate > 0 and ("paced at " .. rate .. "/s") or "saturated", summary.requests / secs, summary.requests, bad,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000))
end
LUA

for mode in nearby area; do
    url="http://$ADDR/api/search/$mode"
    # A route that is not there answers a bare 404 (not problem+json): say so, run anyway.
    probe=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' -X POST "$url" \
        -H 'content-type: application/json' -d '{}')
    echo "== $mode: $CONNS connections, ${SECONDS_}s each (probe with an empty body, a 422 is expected: $probe)"
    case "$probe" in "404 " | 404\ text* | 405*) echo "   WARNING: $url is not routed yet" ;; esac
    for rate in "$RATE" 0; do
        BENCH_MODE=$mode BENCH_RATE=$rate BENCH_CONNECTIONS=$CONNS \
            wrk -t1 -c"$CONNS" -d"${SECONDS_}s" --latency -s "$LUA" "$url" |
            grep -E "RESULT|Non-2xx|Socket errors"
    done
done
