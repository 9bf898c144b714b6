#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster for the tests, from the
# machine's PostgreSQL server binaries, on a free loopback port.
#
#   test/scripts/postgres.sh start DIR   # prints the admin URL on stdout
#   test/scripts/postgres.sh restart DIR [fast|immediate]
#   test/scripts/postgres.sh stop DIR
set -euo pipefail

cmd=${1:?start|stop}
dir=${2:?data directory}

find_bindir() {
  if command -v pg_config >/dev/null 2>&1; then
    local b; b=$(pg_config --bindir)
    if [ -x "$b/initdb" ] && [ -x "$b/pg_ctl" ]; then echo "$b"; return; fi
  fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -Vr); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  done
}

install_postgres() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "postgres.sh: PostgreSQL server binaries missing; installing them with apt-get" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
  else
    echo "postgres.sh: PostgreSQL server binaries (initdb, pg_ctl) not found." >&2
    echo "Install them (Debian: apt-get install postgresql) or set TEST_DATABASE_URL." >&2
    exit 1
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

# initdb and postgres refuse to run as root: run them as an unprivileged user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    local u=nobody
    id postgres >/dev/null 2>&1 && u=postgres
    runuser -u "$u" -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
start)
  bindir=$(find_bindir)
  if [ -z "$bindir" ]; then install_postgres; bindir=$(find_bindir); fi
  [ -n "$bindir" ] || { echo "postgres.sh: no PostgreSQL server binaries after install" >&2; exit 1; }
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    u=nobody; id postgres >/dev/null 2>&1 && u=postgres
    chown "$u" "$dir"; chmod 700 "$dir"
    # The server user must be able to reach $dir through its parents.
    p=$(dirname "$dir")
    while [ "$p" != / ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
  fi
  port=$(free_port)
  as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
CONF
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null \
    || { cat "$dir/postgres.log" >&2; exit 1; }
  echo "$bindir" >"$dir/bindir"
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
restart)
  # For resilience tests: a fast restart, like a failover or a deploy.
  as_pg "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -m "${3:-fast}" -w -t 60 restart >/dev/null
  ;;
stop)
  if [ -f "$dir/bindir" ] && [ -d "$dir/data" ]; then
    as_pg "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start|restart|stop DIR" >&2; exit 2 ;;
esac
