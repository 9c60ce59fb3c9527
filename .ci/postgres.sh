# shellcheck shell=bash
# A throwaway PostgreSQL server for the test suite, from Debian's packages, without Docker.
#
#   source .ci/postgres.sh; pg_start; ...; pg_stop   # pg_start exports ASKEL_PG_URL and PG_DIR
#   bash .ci/postgres.sh                              # starts one, prints ASKEL_PG_URL=… PG_DIR=…
#   bash .ci/postgres.sh stop DIR                     # stops that one, removes DIR
#
# initdb refuses to run as root, so as root the server runs as the `postgres` system user.
# Messages go to stderr: stdout of a direct run is only the two variable lines.

pg_bindir() {
  local dir
  # pg_config may come from libpq-dev alone (bindir /usr/bin, no initdb): check for initdb.
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
    return
  fi
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ]; then
      echo "$dir"
      return
    fi
  done
  return 1
}

pg_install_if_missing() {
  if pg_bindir >/dev/null; then
    return
  fi
  echo "PostgreSQL server not found: installing Debian's package" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

# Runs a server binary as the `postgres` user when we are root, as ourselves otherwise.
# The cd keeps `postgres` from complaining about a working directory it cannot read.
pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    (cd "$PG_DIR" && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

pg_start() {
  local port locale
  pg_install_if_missing || return 1
  PG_BIN=$(pg_bindir) || { echo "no PostgreSQL server binaries found" >&2; return 1; }
  PG_DIR=$(mktemp -d -t askel-pg.XXXXXX) || return 1
  if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres || return 1
    fi
    chown postgres "$PG_DIR" || return 1
  fi
  # A free port now; the tiny race until the server binds it is acceptable for CI.
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ||
    return 1
  # C.UTF-8: the same collation everywhere, yet lower()/upper() know ä, ö and å.
  locale=--no-locale
  locale -a 2>/dev/null | grep -ix 'c\.utf-\?8' >/dev/null && locale=--locale=C.UTF-8
  pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 "$locale" \
    --no-sync >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  # Durability off: a test server that is thrown away needs speed, not crash safety.
  cat >>"$PG_DIR/data/postgresql.conf" <<CONF || return 1
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
CONF
  pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w start >/dev/null ||
    { cat "$PG_DIR/log" >&2; return 1; }
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres askel_test || return 1
  ASKEL_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/askel_test"
  export PG_DIR PG_BIN ASKEL_PG_URL
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') at $ASKEL_PG_URL (log: $PG_DIR/log)" >&2
}

# Safe to call twice, after a failed pg_start, or with nothing started.
pg_stop() {
  if [ -z "${PG_DIR:-}" ] || [ ! -d "$PG_DIR" ]; then
    return 0
  fi
  local bin=${PG_BIN:-}
  [ -n "$bin" ] || bin=$(pg_bindir) || bin=
  if [ -n "$bin" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
    pg_as_owner "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_DIR"
  unset PG_DIR ASKEL_PG_URL
}

# Run directly rather than sourced: start (and leave running), or stop a given directory.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-start}" in
    start)
      pg_start || { pg_stop; exit 1; }
      echo "ASKEL_PG_URL=$ASKEL_PG_URL"
      echo "PG_DIR=$PG_DIR"
      echo "stop it with: bash $0 stop $PG_DIR" >&2
      ;;
    stop)
      PG_DIR=${2:?usage: $0 stop DIR}
      pg_stop
      ;;
    *)
      echo "usage: $0 [start | stop DIR]" >&2
      exit 2
      ;;
  esac
fi
