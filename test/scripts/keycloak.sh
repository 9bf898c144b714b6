#!/usr/bin/env bash
# Fetch, start and stop a throwaway Keycloak for the tests, without Docker:
# the server distribution comes from Maven Central and is cached outside the
# git tree. See test/keycloak/NOTES.md for what was verified on a real run.
#
#   test/scripts/keycloak.sh fetch                    # prints the unpacked dist dir
#   test/scripts/keycloak.sh start DIR PORT MGMT_PORT # prints the issuer URL
#   test/scripts/keycloak.sh stop DIR
#
# Environment:
#   KC_VERSION             Keycloak version (default 26.5.6)
#   KEYCLOAK_CACHE         cache dir (default $HOME/.cache/authbff/keycloak)
#   AUTHBFF_TEST_BASE_URL  authbff origin written into the realm's redirect,
#                          post-logout and back-channel logout URLs
#                          (default http://127.0.0.1:3000)
#   AUTHBFF_TEST_HTTPS_BASE_URL  the https origin the browser test fronts
#                          authbff on, registered as a redirect and
#                          post-logout URL too (default https://127.0.0.1:3443)
#   KC_REALM_FILE          realm JSON to import (default test/keycloak/crm-realm.json)
#   KC_START_TIMEOUT       readiness timeout in seconds (default 240)
#   KC_JAVA_HOME           force a JDK (else: JAVA_HOME, else java on PATH,
#                          else Temurin 25 if the first refuses to run Keycloak)
#   KC_REUSE_BUILD         1 (default): keep the server build that start-dev
#                          makes (lib/quarkus) in the cache and reuse it, which
#                          halves startup; 0: build on every start
#
# Exit codes: 0 ok; 1 failure; 2 usage; 3 java or mvn missing (callers skip).
set -euo pipefail

KC_VERSION=${KC_VERSION:-26.5.6}
KC_ARTIFACT="org.keycloak:keycloak-quarkus-dist:${KC_VERSION}:zip"
KC_DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
CACHE=${KEYCLOAK_CACHE:-$HOME/.cache/authbff/keycloak}
DIST="$CACHE/keycloak-$KC_VERSION"
REALM=crm
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REALM_FILE=${KC_REALM_FILE:-$here/../keycloak/crm-realm.json}
TIMEOUT=${KC_START_TIMEOUT:-240}
MARKER=.authbff-keycloak

log() { echo "keycloak.sh: $*" >&2; }
die() { log "$*"; exit 1; }

usage() {
  echo "usage: $0 fetch | start DIR PORT MGMT_PORT | stop DIR" >&2
  exit 2
}

need_tools() {
  local missing=()
  command -v java >/dev/null 2>&1 || [ -x "${KC_JAVA_HOME:-${JAVA_HOME:-/nonexistent}}/bin/java" ] \
    || missing+=(java)
  if [ ! -f "$DIST/.unpacked" ]; then
    command -v mvn >/dev/null 2>&1 || missing+=(mvn)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    log "cannot run Keycloak: ${missing[*]} not found on PATH."
    log "Install a JDK 17+ and Maven (Debian: apt-get install openjdk-17-jdk-headless maven)."
    exit 3
  fi
}

ensure_unzip() {
  command -v unzip >/dev/null 2>&1 && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "unzip missing; installing it with apt-get"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unzip) >&2
  else
    die "unzip not found; install it (Debian: apt-get install unzip)"
  fi
}

fetch() {
  need_tools
  if [ ! -f "$DIST/.unpacked" ]; then
    mkdir -p "$CACHE"
    # Parallel test packages may fetch at once: one downloads, the others wait.
    if command -v flock >/dev/null 2>&1; then
      (flock -w 900 9 || die "timed out waiting for $CACHE/.fetch.lock"; fetch_locked) 9>"$CACHE/.fetch.lock"
    else
      fetch_locked
    fi
  fi
  echo "$DIST"
}

fetch_locked() {
  [ -f "$DIST/.unpacked" ] && return 0
  local zip="$CACHE/keycloak-quarkus-dist-$KC_VERSION.zip"
  if [ ! -s "$zip" ]; then
    log "downloading $KC_ARTIFACT with Maven"
    # Run from the cache dir so no pom.xml of a caller is picked up.
    if ! (cd "$CACHE" && mvn -B -q "$KC_DEP_PLUGIN:copy" -Dartifact="$KC_ARTIFACT" \
      -DoutputDirectory="$CACHE" -Dmdep.overWriteReleases=true) >"$CACHE/mvn.log" 2>&1; then
      cat "$CACHE/mvn.log" >&2
      die "mvn could not download $KC_ARTIFACT"
    fi
    rm -f "$CACHE/mvn.log"
    [ -s "$zip" ] || die "mvn did not produce $zip"
  fi
  ensure_unzip
  # Unpack into a temporary dir, then rename: a half-unpacked dist never looks ready.
  local tmp="$CACHE/.unpack.$$"
  rm -rf "$tmp" "$DIST"
  mkdir -p "$tmp"
  unzip -q "$zip" -d "$tmp" || { rm -rf "$tmp"; die "unzip of $zip failed"; }
  [ -x "$tmp/keycloak-$KC_VERSION/bin/kc.sh" ] || { rm -rf "$tmp"; die "unexpected zip layout in $zip"; }
  mv "$tmp/keycloak-$KC_VERSION" "$DIST"
  rmdir "$tmp"
  rm -rf "$CACHE/build-$KC_VERSION-"*   # builds made from an older unpack
  touch "$DIST/.unpacked"
  rm -f "$zip"   # 165 MB; Maven keeps a copy in ~/.m2 anyway
}

java_major() { # $1 = java binary
  "$1" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = //p' | sed 's/^1\.//' | head -n1
}

temurin25() {
  local d
  for d in /usr/lib/jvm/temurin-25-jdk* /usr/lib/jvm/*-25-*; do
    [ -x "$d/bin/java" ] && { echo "$d"; return; }
  done
  return 0
}

# Prints the JAVA_HOME to use, or nothing for "java on PATH".
pick_java_home() {
  if [ -n "${KC_JAVA_HOME:-}" ]; then echo "$KC_JAVA_HOME"; return; fi
  local jh=${JAVA_HOME:-} bin=java
  [ -n "$jh" ] && bin="$jh/bin/java"
  local major; major=$(java_major "$bin" || true)
  if [ -n "$major" ] && [ "$major" -ge 17 ]; then echo "$jh"; return; fi
  local t; t=$(temurin25)
  [ -n "$t" ] || die "no Java 17+ found (java reports '${major:-nothing}'); set KC_JAVA_HOME"
  log "java on PATH is '${major:-unknown}', using $t"
  echo "$t"
}

port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

is_running() { # $1 = dir
  [ -f "$1/kc.pid" ] && kill -0 "$(cat "$1/kc.pid")" 2>/dev/null
}

kill_tree() { # $1 = dir; the server runs in its own process group (setsid)
  local dir=$1 pid _
  [ -f "$dir/kc.pid" ] || return 0
  pid=$(cat "$dir/kc.pid")
  [ -n "$pid" ] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do
    # The group is gone when no process has it as its pgid.
    if ! kill -0 -- "-$pid" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  log "Keycloak (pgid $pid) did not stop in 30 s; sending KILL"
  kill -KILL -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 -- "-$pid" 2>/dev/null || return 0
    sleep 0.1
  done
}

fail_start() { # $1 = dir, $2 = message
  log "$2"
  if [ -f "$1/kc.log" ]; then
    log "last lines of $1/kc.log:"
    tail -n 60 "$1/kc.log" >&2
  fi
  kill_tree "$1"
  exit 1
}

# start-dev first re-builds the server for its options (the "Updating the
# configuration" step, ~13 s of a ~35 s start) and writes the result to
# lib/quarkus. The build depends only on the version, the build options below
# and the JDK, so it is kept in the cache and copied into later run dirs;
# Keycloak then starts without re-building (it re-builds by itself if the
# persisted options do not match).
BUILD_OPTS="start-dev --health-enabled=true --db=dev-mem"

build_dir() { # $1 = JAVA_HOME or empty
  local bin=java major key
  [ -n "$1" ] && bin="$1/bin/java"
  major=$(java_major "$bin" || true)
  key=$(printf '%s|%s|java%s' "$KC_VERSION" "$BUILD_OPTS" "$major" | sha256sum | cut -c1-12)
  echo "$CACHE/build-$KC_VERSION-$key"
}

start() {
  local dir=$1 port=$2 mport=$3
  case "$port$mport" in *[!0-9]*) usage ;; esac
  need_tools
  fetch >/dev/null
  [ -f "$REALM_FILE" ] || die "realm file $REALM_FILE not found"
  if [ -e "$dir" ] && [ ! -f "$dir/$MARKER" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
    die "$dir exists and is not a keycloak.sh run dir"
  fi
  if is_running "$dir"; then die "a Keycloak is already running from $dir"; fi
  port_busy "$port" && die "port 127.0.0.1:$port is in use"
  port_busy "$mport" && die "port 127.0.0.1:$mport is in use"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  touch "$dir/$MARKER"

  # The run dir gets its own copy of everything Keycloak writes to: bin/ (kc.sh
  # derives kc.home.dir from its own resolved path), conf/, lib/quarkus
  # (re-augmented by start-dev), data/. The 170 MB of jars in lib/lib are
  # only read, so they are symlinked to the cache.
  local kc="$dir/kc"
  rm -rf "$kc"
  mkdir -p "$kc/lib" "$kc/data/import" "$kc/providers" "$kc/themes"
  cp -a "$DIST/bin" "$DIST/conf" "$DIST/version.txt" "$kc/"
  cp -a "$DIST/lib/app" "$DIST/lib/quarkus-run.jar" "$kc/lib/"
  ln -s "$DIST/lib/lib" "$kc/lib/lib"

  local base=${AUTHBFF_TEST_BASE_URL:-http://127.0.0.1:3000}
  base=${base%/}
  # Keycloak resolves ${AUTHBFF_TEST_BASE_URL} itself at import (verified,
  # NOTES.md); the variable is exported for it. The file is copied unchanged.
  cp "$REALM_FILE" "$kc/data/import/$REALM-realm.json"

  local jh; jh=$(pick_java_home)
  local hostname="http://127.0.0.1:$port"
  local issuer="$hostname/realms/$REALM"
  echo "$issuer" >"$dir/issuer"
  echo "$port $mport" >"$dir/ports"

  launch() { # $1 = JAVA_HOME or empty
    : >"$dir/kc.log"
    echo "${1:-$(command -v java)}" >"$dir/java"
    local bd; bd=$(build_dir "$1")
    rm -rf "$kc/lib/quarkus"
    if [ "${KC_REUSE_BUILD:-1}" = 1 ] && [ -f "$bd/.ok" ]; then
      cp -a "$bd/quarkus" "$kc/lib/quarkus"
    else
      cp -a "$DIST/lib/quarkus" "$kc/lib/quarkus"
    fi
    (
      cd "$dir"
      if [ -n "$1" ]; then export JAVA_HOME=$1; fi
      export AUTHBFF_TEST_BASE_URL=$base
      export AUTHBFF_TEST_HTTPS_BASE_URL=${AUTHBFF_TEST_HTTPS_BASE_URL:-https://127.0.0.1:3443}
      export KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=admin
      # setsid: own process group, so stop kills kc.sh and its JVM(s) together.
      # shellcheck disable=SC2086 # BUILD_OPTS is a word list
      exec setsid "$kc/bin/kc.sh" $BUILD_OPTS \
        --http-host=127.0.0.1 --http-port="$port" --http-management-port="$mport" \
        --hostname="$hostname" --import-realm \
        </dev/null >>"$dir/kc.log" 2>&1
    ) &
    echo $! >"$dir/kc.pid"
  }

  local t0=$SECONDS
  launch "$jh"
  local disc="$issuer/.well-known/openid-configuration" retried=
  while :; do
    if ! is_running "$dir"; then
      # A JDK too old for this Keycloak fails fast with UnsupportedClassVersionError.
      if [ -z "$retried" ] && [ -z "${KC_JAVA_HOME:-}" ] \
        && grep -qE 'UnsupportedClassVersionError|requires Java|has been compiled by a more recent' "$dir/kc.log"; then
        local t; t=$(temurin25)
        if [ -n "$t" ] && [ "$t" != "$jh" ]; then
          log "Keycloak refused $(cat "$dir/java"); retrying with $t"
          retried=1; jh=$t; launch "$jh"; continue
        fi
      fi
      fail_start "$dir" "Keycloak exited during startup"
    fi
    if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$mport/health/ready" 2>/dev/null \
      && curl -fsS --max-time 5 "$disc" 2>/dev/null | grep -qF "\"issuer\":\"$issuer\""; then
      break
    fi
    if [ $((SECONDS - t0)) -ge "$TIMEOUT" ]; then
      fail_start "$dir" "Keycloak not ready after $TIMEOUT s"
    fi
    sleep 1
  done
  echo $((SECONDS - t0)) >"$dir/startup-seconds"
  local bd; bd=$(build_dir "$jh")
  if [ "${KC_REUSE_BUILD:-1}" = 1 ] && [ ! -f "$bd/.ok" ]; then
    # Publish atomically: a concurrent start may do the same; one wins.
    local tmpb="$CACHE/.build.$$"
    rm -rf "$tmpb"; mkdir -p "$tmpb"
    if cp -a "$kc/lib/quarkus" "$tmpb/quarkus" && touch "$tmpb/.ok" && mv -T "$tmpb" "$bd" 2>/dev/null; then
      log "saved the server build to $bd"
    fi
    rm -rf "$tmpb"
  fi
  if grep -q 'Updating the configuration' "$dir/kc.log"; then echo rebuilt; else echo reused; fi >"$dir/build"
  log "Keycloak $KC_VERSION ready in $((SECONDS - t0)) s (log: $dir/kc.log)"
  echo "$issuer"
}

stop() {
  local dir=$1
  [ -e "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  case "$dir" in /|"$HOME"|"$CACHE"|"$DIST") die "refusing to remove $dir" ;; esac
  if [ ! -f "$dir/$MARKER" ] && [ -n "$(ls -A "$dir")" ]; then
    die "$dir is not a keycloak.sh run dir; not removing it"
  fi
  kill_tree "$dir"
  rm -rf "$dir"
}

case "${1:-}" in
fetch) [ $# -eq 1 ] || usage; fetch ;;
start) [ $# -eq 4 ] || usage; start "$2" "$3" "$4" ;;
stop) [ $# -eq 2 ] || usage; stop "$2" ;;
*) usage ;;
esac
