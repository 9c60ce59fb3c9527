# shellcheck shell=bash
# A throwaway PostgreSQL server for the test suite, from Debian's packages, without Docker.
# Source this file, then: pg_start (exports ASKEL_PG_URL and PG_DIR) ... pg_stop.
# initdb refuses to run as root, so as root the server runs as the `postgres` system user.

pg_bindir() {
  local dir
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
  echo "PostgreSQL server not found: installing Debian's package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
}

pg_start() {
  pg_install_if_missing || return 1
  local bin port as_user=()
  bin=$(pg_bindir) || return 1
  PG_DIR=$(mktemp -d)
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    chown postgres "$PG_DIR"
    as_user=(runuser -u postgres --)
  fi
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${as_user[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-sync \
    >/dev/null || return 1
  # Durability off: a test server that is thrown away needs speed, not crash safety.
  cat >>"$PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
CONF
  "${as_user[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w start >/dev/null ||
    { cat "$PG_DIR/server.log"; return 1; }
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres askel_test || return 1
  export PG_DIR PG_BIN="$bin" ASKEL_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/askel_test"
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] || return 0
  local as_user=()
  [ "$(id -u)" = 0 ] && as_user=(runuser -u postgres --)
  "${as_user[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
