#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite.
#   tests/support/pgcluster.sh run CMD...   start a cluster, run CMD with QALQAN_TEST_PG_URL set,
#                                            stop and delete the cluster (also when CMD fails),
#                                            exit with CMD's status.
# initdb refuses to run as root, so as root the cluster belongs to the unprivileged user `nobody`.
# The PostgreSQL tools run from the cluster's own directory: they change to their working
# directory at start, and `nobody` cannot enter the caller's (e.g. a clone under /root).
# Where the binaries are missing, Debian's `postgresql` package is installed.
set -euo pipefail

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin /usr/local/pgsql/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

PGBIN=$(find_bin || true)
if [ -z "$PGBIN" ]; then
  echo "PostgreSQL server binaries missing: installing Debian's postgresql" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  PGBIN=$(find_bin)
fi

[ "${1:-}" = run ] || { echo "usage: $0 run CMD..." >&2; exit 64; }
shift

DIR=$(mktemp -d /tmp/qalqan-pg.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [ "$(id -u)" = 0 ]; then
  chown nobody "$DIR"; chmod 700 "$DIR"
  AS=(runuser -u nobody --)
else
  AS=()
fi

# A PostgreSQL tool as the cluster's owner, from a directory that owner can enter.
as_owner() {
  (cd "$DIR" && "${AS[@]}" "$@")
}

stop() {
  as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap stop EXIT INT TERM

as_owner "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 1; }
as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
  || { cat "$DIR/server.log" >&2; exit 1; }
as_owner "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres qalqan_test

export QALQAN_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/qalqan_test"
echo "PostgreSQL test cluster ($("$PGBIN/postgres" -V)) on port $PORT" >&2
set +e
"$@"
status=$?
set -e
exit $status
