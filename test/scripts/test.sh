#!/usr/bin/env bash
# The test command behind `make test`: start the services the tests need on
# loopback ports, run lint and the whole test suite with the race detector,
# and stop the services whatever happens.
#
#   test/scripts/test.sh          lint + go test -race ./...
#   test/scripts/test.sh bench    the Go benchmarks against the same services
#
# Uses TEST_DATABASE_URL when set; otherwise starts a throwaway PostgreSQL
# cluster from the machine's binaries. Keycloak: see test/scripts/keycloak.sh;
# where Java or Maven is missing its suite is skipped, except under CI=true.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
mode=${1:-test}

work=$(mktemp -d /tmp/authbff-test.XXXXXX)
chmod 755 "$work"
cleanup() {
  local rc=$?
  if [ -n "${KC_STARTED:-}" ]; then "$root/test/scripts/keycloak.sh" stop "$work/keycloak" || true; fi
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

if [ -x "$root/test/scripts/keycloak.sh" ] && [ -z "${TEST_KEYCLOAK_ISSUER:-}" ] && [ "${SKIP_KEYCLOAK:-}" != 1 ]; then
  echo "==> fetching and starting Keycloak"
  set +e
  "$root/test/scripts/keycloak.sh" fetch
  rc=$?
  set -e
  if [ $rc -eq 0 ]; then
    export TEST_KEYCLOAK_DIR="$work/keycloak"
    if [ -f "$root/test/scripts/keycloak-env.sh" ]; then . "$root/test/scripts/keycloak-env.sh"; fi
  elif [ $rc -eq 3 ] && [ "${CI:-}" != true ]; then
    echo "    Java or Maven missing: the Keycloak suite will be skipped"
  else
    echo "keycloak fetch failed (exit $rc)" >&2
    exit 1
  fi
fi

if [ "$mode" = bench ]; then
  go test -run '^$' -bench . -benchmem ./...
  exit 0
fi

echo "==> go vet"
go vet ./...
echo "==> lint"
make --no-print-directory lint
echo "==> go test -race ./..."
go test -race -count=1 -timeout 30m ./... 2>&1 | tee "$work/go-test.log"
status=${PIPESTATUS[0]}
passed=$(grep -c '^ok ' "$work/go-test.log" || true)
failed=$(grep -c '^FAIL' "$work/go-test.log" || true)
echo "packages: $passed ok, $failed failed"
exit "$status"
