#!/usr/bin/env bash
# The test command behind `make test`: start the services the tests need on
# loopback ports, run lint and the whole test suite with the race detector,
# and stop the services whatever happens.
#
#   test/scripts/test.sh          lint + go test -race ./... + a short run of every fuzz target
#   test/scripts/test.sh bench    the Go benchmarks against the same services
#
# Uses TEST_DATABASE_URL when set; otherwise starts a throwaway PostgreSQL
# cluster from the machine's binaries. Installs chromium (apt-get, as root)
# for the browser tests when it is missing. Keycloak: see test/scripts/keycloak.sh;
# where Java or Maven is missing its suite is skipped, except under CI=true.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
mode=${1:-test}

work=$(mktemp -d /tmp/authbff-test.XXXXXX)
chmod 755 "$work"
cleanup() {
  local rc=$?
  if [ -n "${kc_pid:-}" ]; then kill "$kc_pid" 2>/dev/null || true; wait "$kc_pid" 2>/dev/null || true; fi
  if [ -n "${KC_STARTED:-}" ]; then "$root/test/scripts/keycloak.sh" stop "$work/keycloak" >/dev/null 2>&1 || true; fi
  if [ -n "${PG_STARTED:-}" ]; then "$root/test/scripts/postgres.sh" stop "$work/pg" || true; fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT INT TERM

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  echo "==> starting a throwaway PostgreSQL cluster"
  TEST_DATABASE_URL=$("$root/test/scripts/postgres.sh" start "$work/pg")
  PG_STARTED=1
  export TEST_DATABASE_URL
  echo "    $TEST_DATABASE_URL"
fi

# The browser tests (test/browser) drive Debian's chromium: install it like
# PostgreSQL when it is missing and we may. Without it they are skipped,
# except under CI=true, where that is a failure.
if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing chromium with apt-get (for the browser tests)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
  else
    echo "    chromium not found (Debian: apt-get install chromium, or set CHROMIUM_PATH): the browser tests will be skipped"
  fi
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Keycloak starts in the background while lint runs; the tests wait for it.
kc_pid=""
if [ -z "${TEST_KEYCLOAK_ISSUER:-}" ] && [ "${SKIP_KEYCLOAK:-}" != 1 ]; then
  echo "==> fetching Keycloak (Maven Central, cached in ${KEYCLOAK_CACHE:-$HOME/.cache/authbff/keycloak})"
  set +e
  "$root/test/scripts/keycloak.sh" fetch >/dev/null
  rc=$?
  set -e
  if [ $rc -eq 0 ]; then
    kc_port=$(free_port); kc_mgmt=$(free_port); bff_port=$(free_port)
    # The e2e suite runs one authbff on this port: Keycloak's back-channel
    # logout URL is one fixed URL, registered at realm import.
    export AUTHBFF_TEST_BASE_URL="http://127.0.0.1:$bff_port"
    # Keycloak lets a loopback redirect URI use any port over http only: the
    # browser run over https fronts authbff on this registered port.
    https_port=$(free_port)
    export AUTHBFF_TEST_HTTPS_BASE_URL="https://127.0.0.1:$https_port"
    echo "==> starting Keycloak on 127.0.0.1:$kc_port (in the background)"
    ("$root/test/scripts/keycloak.sh" start "$work/keycloak" "$kc_port" "$kc_mgmt" >"$work/kc-issuer" 2>"$work/kc-start.log") &
    kc_pid=$!
    KC_STARTED=1
  elif [ $rc -eq 3 ] && [ "${CI:-}" != true ]; then
    echo "    Java or Maven missing: the Keycloak suites will be skipped"
  else
    echo "keycloak fetch failed (exit $rc)" >&2
    exit 1
  fi
fi

wait_keycloak() {
  [ -n "$kc_pid" ] || return 0
  echo "==> waiting for Keycloak"
  if ! wait "$kc_pid"; then
    echo "Keycloak did not start:" >&2
    tail -50 "$work/kc-start.log" >&2
    exit 1
  fi
  kc_pid=""
  TEST_KEYCLOAK_ISSUER=$(cat "$work/kc-issuer")
  export TEST_KEYCLOAK_ISSUER
  echo "    $TEST_KEYCLOAK_ISSUER (ready after $(cat "$work/keycloak/startup-seconds" 2>/dev/null || echo '?') s)"
}

if [ "$mode" = bench ]; then
  wait_keycloak
  go test -run '^$' -bench . -benchmem ./...
  exit 0
fi

# The image test needs podman and runc, the Next.js example's browser test
# node, npm and chromium: install what is missing from Debian when root
# (without them those tests skip, except under CI=true).
missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || missing+=(runc)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing ${missing[*]} with apt-get"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >"$work/apt.log" 2>&1 ||
      { echo "apt-get install ${missing[*]} failed:" >&2; tail -20 "$work/apt.log" >&2; }
  else
    echo "    missing ${missing[*]}: the tests that need them will be skipped (CI=true: fail)"
  fi
fi
# podman on these machines: runc, cgroupfs and no default ulimits.
if [ -z "${CONTAINERS_CONF:-}" ]; then
  printf '[containers]\ndefault_ulimits = []\n' >"$work/containers.conf"
  export CONTAINERS_CONF="$work/containers.conf"
fi

echo "==> go vet"
go vet ./...
echo "==> lint"
make --no-print-directory lint
wait_keycloak
echo "==> go test -race ./...   (full log: test-output.log; shown: every test's result, the dialect runs of the"
echo "    storage contract suites, and the measurements the tests log)"
set +e
go test -race -count=1 -timeout 40m -v ./... >"$root/test-output.log" 2>&1
status=$?
set -e
grep -E '^(ok|FAIL|panic:|--- (PASS|FAIL|SKIP))|^    --- (PASS|FAIL|SKIP): Test[A-Za-z]+/(postgres|sqlite) |^\s+[a-z_]+_test\.go:[0-9]+: (round [0-9]|[0-9]+ (requests|forged|races|reads|secrets)|-m [a-z]+: |seed |timing: )' "$root/test-output.log" || true
if [ $status -ne 0 ]; then
  echo "==> failures (from test-output.log):"
  grep -E -B2 -A25 '^\s*--- FAIL' "$root/test-output.log" | head -300 || true
fi
# The concurrency tests once more, 20 times each under -race (docs/security.md
# R11): the refresh single-flight and lease, the bulkhead, the session read's
# batching and concurrent syncs, where an ordering bug shows only sometimes.
echo "==> concurrency tests, 20 times each under -race"
set +e
go test -race -count=20 -run 'TestConcurrent|TestReadBatcher|TestRefresh|TestLease|TestBulkhead|TestInvalidGrant' \
  ./application ./adapters/store >"$root/concurrency-output.log" 2>&1
conc_status=$?
set -e
grep -E '^(ok|FAIL)' "$root/concurrency-output.log" || true
if [ $conc_status -ne 0 ]; then
  echo "==> concurrency failure (from concurrency-output.log):"
  grep -E -B2 -A25 '^\s*--- FAIL' "$root/concurrency-output.log" | head -100 || true
  [ $status -ne 0 ] || status=$conc_status
fi
# Every fuzz target beyond its seed corpus: the checklist's 60 s each in CI
# (CI=true), 10 s each on a developer's machine; FUZZTIME sets another.
fuzz_time=${FUZZTIME:-10s}
if [ -z "${FUZZTIME:-}" ] && [ "${CI:-}" = true ]; then fuzz_time=60s; fi
echo "==> fuzz ($fuzz_time per target)"
set +e
make --no-print-directory fuzz FUZZTIME="$fuzz_time" >"$root/fuzz-output.log" 2>&1
fuzz_status=$?
set -e
grep -E '^(==>|ok|FAIL|---)' "$root/fuzz-output.log" || true
if [ $fuzz_status -ne 0 ]; then
  echo "==> fuzz failure (from fuzz-output.log; the crasher is saved under the package's testdata/fuzz):"
  tail -40 "$root/fuzz-output.log"
  [ $status -ne 0 ] || status=$fuzz_status
fi
passed=$(grep -c '^--- PASS' "$root/test-output.log" || true)
failed=$(grep -c '^--- FAIL' "$root/test-output.log" || true)
skipped=$(grep -c '^--- SKIP' "$root/test-output.log" || true)
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
