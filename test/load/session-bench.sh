#!/usr/bin/env bash
# End-to-end GET /api/auth/session benchmark on a fresh machine: build
# bin/authbff and the load tool, create a throwaway database, migrate, seed,
# serve on a free loopback port, warm up, measure, and stop everything.
#
#   test/load/session-bench.sh            one run: 100k live sessions, 64 connections, 30 s (~1 min)
#   test/load/session-bench.sh pool       the same load for connection_limit 10, 20 and 32 (~2 min)
#   test/load/session-bench.sh cleanup    docs/security.md R7/R8: 1M expired + 100k live, 500 req/s,
#                                         `authbff sessions cleanup` during the load (several minutes)
#   test/load/session-bench.sh yardsticks authbff without its session cache, the reference server
#                                         (net/http + pgx, one prepared lookup, the same JSON), the HTTP
#                                         ceiling (the same bytes from memory), then authbff with its
#                                         cache on the same tokens and on a hot set of HOT (5000) of
#                                         them, one after the other on the same database; prints the
#                                         ratios (`make bench-load`, ~4 min)
#   test/load/session-bench.sh proxy      p50 of GET /api/proxy/ping through authbff minus the same
#                                         call to the upstream directly (PROXY_CONNS connections)
#   test/load/session-bench.sh scale      session read p99 at a fixed rate, uncached, with 10^5, 10^6
#                                         and 10^7 sessions in the table (SCALES; tens of minutes, GBs)
#
# Uses TEST_DATABASE_URL (an admin URL) when set, else starts a throwaway
# cluster with test/scripts/postgres.sh. Knobs (environment): LIVE, EXPIRED,
# CONNS, DURATION, WARMUP, POOL (connection_limit; 20 measured best of
# 10/20/32 on a 2-core box), POOLS (for `pool`), SERVE_LOG (where serve's logs
# go; default /dev/null, a file to measure with access logs), RATE (a fixed
# rate instead of a closed loop), CLEANUP_EXPIRED, CLEANUP_RATE, BASELINE,
# CACHE_TTL (AUTH_SESSION_CACHE_TTL for serve; empty: its default), HOT,
# SCALES, SCALE_RATE.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
mode=${1:-bench}

LIVE=${LIVE:-100000}
EXPIRED=${EXPIRED:-10000}
CONNS=${CONNS:-64}
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-5s}
POOL=${POOL:-20}
POOLS=${POOLS:-10 20 32}
SERVE_LOG=${SERVE_LOG:-/dev/null}
RATE=${RATE:-0}
SECRET=authbff-load-benchmark-secret-0123456789abcdef

work=$(mktemp -d /tmp/authbff-load.XXXXXX)
chmod 755 "$work"
serve_pid=""
stop_serve() {
  if [ -n "$serve_pid" ]; then
    kill -TERM "$serve_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
    serve_pid=""
  fi
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_serve
  if [ -n "${DB_URL:-}" ]; then "$work/load" dropdb -admin-url "$ADMIN_URL" -database-url "$DB_URL" || true; fi
  if [ -n "${PG_STARTED:-}" ]; then "$root/test/scripts/postgres.sh" stop "$work/pg" || true; fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT INT TERM

echo "==> build"
go build -o bin/authbff ./cmd/authbff
go build -o "$work/load" ./test/load

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  ADMIN_URL=$TEST_DATABASE_URL
else
  echo "==> starting a throwaway PostgreSQL cluster"
  ADMIN_URL=$("$root/test/scripts/postgres.sh" start "$work/pg")
  PG_STARTED=1
fi
DB_URL=$("$work/load" createdb -admin-url "$ADMIN_URL")
echo "    database $DB_URL"
sep='?'; case "$DB_URL" in *'?'*) sep='&' ;; esac

# authbff reads .env from its working directory and keeps a data folder:
# run it from $work, never with the developer's Keycloak or production settings.
clean_env=(env -u AUTH_KEYCLOAK_ISSUER -u KEYCLOAK_ISSUER -u AUTH_KEYCLOAK_ID -u KEYCLOAK_CLIENT_ID
  -u AUTH_ENV -u NODE_ENV -u DB_POOL_SIZE -u DATABASE_POOL_SIZE -u BACKEND_API_URL -u NEXT_PUBLIC_SPRING_API_URL
  "AUTH_SECRET=$SECRET" AUTH_DEBUG=false AUTH_DATA_DIR="$work/data")

echo "==> migrate"
(cd "$work" && exec "${clean_env[@]}" DATABASE_URL="$DB_URL" "$root/bin/authbff" migrate up >/dev/null)

# start_serve POOL: serve with connection_limit=POOL on a free port.
start_serve() {
  port=$("$work/load" freeport)
  # exec: $! is authbff itself, so the trap's kill reaches it.
  (cd "$work" && exec "${clean_env[@]}" DATABASE_URL="$DB_URL${sep}connection_limit=$1" LISTEN_ADDR="127.0.0.1:$port" \
    AUTH_SESSION_CACHE_TTL="${CACHE_TTL:-}" BACKEND_API_URL="${BACKEND_API_URL:-}" \
    AUTH_URL="http://127.0.0.1:$port/api/auth" "$root/bin/authbff" serve) >"$SERVE_LOG" 2>&1 &
  serve_pid=$!
  for _ in $(seq 1 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$serve_pid" 2>/dev/null || { echo "authbff serve exited (logs: SERVE_LOG=file)" >&2; exit 1; }
    sleep 0.1
  done
  echo "authbff serve did not listen on $port within 15 s" >&2
  exit 1
}

# start_reference POOL [-memory]: the yardstick server on a free port.
start_reference() {
  port=$("$work/load" freeport)
  local pool=$1; shift
  "$work/load" reference-serve -database-url "$DB_URL${sep}connection_limit=$pool" -listen "127.0.0.1:$port" "$@" \
    >"$SERVE_LOG" 2>&1 &
  serve_pid=$!
  for _ in $(seq 1 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$serve_pid" 2>/dev/null || { echo "reference-serve exited (logs: SERVE_LOG=file)" >&2; exit 1; }
    sleep 0.1
  done
  echo "reference-serve did not listen on $port within 15 s" >&2
  exit 1
}

load_run() {
  "$work/load" run -url "http://127.0.0.1:$port" -c "$CONNS" -sessions "$LIVE" -rate "$RATE" \
    -watch-db "$DB_URL" -watch-pids "server=$serve_pid" "$@"
}

echo "==> machine: $(nproc) CPUs, $(free -g 2>/dev/null | awk '/^Mem:/ {print $2 " GiB"}'), $(uname -r)"
case "$mode" in
bench)
  echo "==> seed $LIVE live + $EXPIRED expired sessions"
  "$work/load" seed -database-url "$DB_URL" -live "$LIVE" -expired "$EXPIRED"
  echo "==> serve (connection_limit=$POOL, logs to $SERVE_LOG)"
  start_serve "$POOL"
  echo "==> load: warm-up $WARMUP, then $CONNS connections for $DURATION"
  load_run -warmup "$WARMUP" -d "$DURATION"
  ;;
pool)
  echo "==> seed $LIVE live + $EXPIRED expired sessions"
  "$work/load" seed -database-url "$DB_URL" -live "$LIVE" -expired "$EXPIRED"
  summary=""
  for p in $POOLS; do
    echo "==> connection_limit=$p"
    start_serve "$p"
    line=$(load_run -warmup "${WARMUP}" -d "${POOL_DURATION:-20s}" | tee -a /dev/stderr | grep '^RESULT')
    summary+="connection_limit=$p ${line#RESULT }"$'\n'
    stop_serve
  done
  echo "==> summary"
  printf '%s' "$summary"
  ;;
cleanup)
  EXPIRED=${CLEANUP_EXPIRED:-1000000}
  echo "==> seed $LIVE live + $EXPIRED expired sessions"
  "$work/load" seed -database-url "$DB_URL" -live "$LIVE" -expired "$EXPIRED"
  echo "==> serve (connection_limit=$POOL, logs to $SERVE_LOG)"
  start_serve "$POOL"
  echo "==> load at ${CLEANUP_RATE:-500} req/s; cleanup after the baseline"
  "$work/load" cleanup-under-load -url "http://127.0.0.1:$port" -database-url "$DB_URL" \
    -authbff "$root/bin/authbff" -c "$CONNS" -sessions "$LIVE" -rate "${CLEANUP_RATE:-500}" \
    -baseline "${BASELINE:-20s}" -watch-db "$DB_URL" -watch-pids "authbff=$serve_pid"
  ;;
yardsticks)
  echo "==> seed $LIVE live + $EXPIRED expired sessions"
  "$work/load" seed -database-url "$DB_URL" -live "$LIVE" -expired "$EXPIRED"
  results=""
  HOT=${HOT:-5000}
  for target in authbff reference ceiling authbff-cached authbff-cached-hot; do
    echo "==> $target (connection_limit=$POOL)"
    extra=()
    case $target in
      authbff) CACHE_TTL=0 start_serve "$POOL" ;;
      authbff-cached) start_serve "$POOL" ;;
      authbff-cached-hot) start_serve "$POOL"; extra=(-sessions "$HOT") ;;
      reference) start_reference "$POOL" ;;
      ceiling) start_reference "$POOL" -memory ;;
    esac
    out=$(load_run -warmup "$WARMUP" -d "$DURATION" "${extra[@]}" | tee -a /dev/stderr)
    results+="$target $(grep '^RESULT' <<<"$out" | cut -d' ' -f2-) $(grep '^CPUREQ' <<<"$out" | cut -d' ' -f2-)"$'\n'
    stop_serve
  done
  echo "==> yardsticks ($CONNS connections, $DURATION each, pool $POOL, $(nproc) CPUs)"
  "$work/load" ratios <<<"$results"
  ;;
proxy)
  echo "==> seed $LIVE live sessions with usable access tokens"
  "$work/load" seed -database-url "$DB_URL" -live "$LIVE" -access-secret "$SECRET"
  # Two identical upstreams: the one behind authbff insists on the bearer
  # token authbff adds; the one called directly cannot (the load tool sends
  # no Authorization header).
  up_port=$("$work/load" freeport)
  "$work/load" upstream-serve -listen "127.0.0.1:$up_port" -require-bearer >/dev/null 2>&1 &
  up_pid=$!
  direct_port=$("$work/load" freeport)
  "$work/load" upstream-serve -listen "127.0.0.1:$direct_port" >/dev/null 2>&1 &
  direct_pid=$!
  trap 'kill $up_pid $direct_pid 2>/dev/null || true; cleanup' EXIT INT TERM
  BACKEND_API_URL="http://127.0.0.1:$up_port" start_serve "$POOL"
  echo "==> through authbff: GET /api/proxy/ping"
  via=$(load_run -path /api/proxy/ping -warmup "$WARMUP" -d "$DURATION" -c "${PROXY_CONNS:-8}" | tee -a /dev/stderr | grep '^RESULT')
  echo "==> the upstream directly: GET /ping"
  direct=$("$work/load" run -url "http://127.0.0.1:$direct_port" -path /ping -warmup "$WARMUP" -d "$DURATION" \
    -c "${PROXY_CONNS:-8}" -sessions "$LIVE" -rate "$RATE" | tee -a /dev/stderr | grep '^RESULT')
  p50() { sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$1"; }
  echo "==> proxy overhead (${PROXY_CONNS:-8} connections): p50 $(p50 "$via") ms through authbff, $(p50 "$direct") ms direct:" \
    "$(awk -v a="$(p50 "$via")" -v b="$(p50 "$direct")" 'BEGIN { printf "%.2f", a - b }') ms added"
  ;;
scale)
  SCALES=${SCALES:-100000 1000000 10000000}
  summary=""
  for n in $SCALES; do
    echo "==> seed up to $n live sessions (no token bytes)"
    "$work/load" seed -database-url "$DB_URL" -live "$n" -token-bytes 0
    CACHE_TTL=0 start_serve "$POOL"
    line=$(load_run -rate "${SCALE_RATE:-500}" -warmup "$WARMUP" -d "$DURATION" -sessions "$n" | tee -a /dev/stderr | grep '^RESULT')
    summary+="sessions=$n ${line#RESULT }"$'\n'
    stop_serve
  done
  echo "==> summary (fixed rate ${SCALE_RATE:-500} req/s)"
  printf '%s' "$summary"
  ;;
*)
  echo "usage: $0 [bench|pool|cleanup|yardsticks|proxy|scale]" >&2
  exit 2
  ;;
esac
