#!/usr/bin/env bash
# Runs a command with a PostgreSQL to talk to: a cluster of Debian's
# package in a temporary folder, on a free loopback port, stopped and
# deleted afterwards. PostgreSQL refuses to run as root: as root (CI), the
# cluster runs as the unprivileged user `nobody`.
# The command finds it in MARAUDE_TEST_DATABASE_URL (its `postgres`
# database; the user `postgres` is its superuser, trusted on loopback).
# Usage: scripts/with-postgres.sh COMMAND…
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-system.sh
install_debian_packages postgresql

bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
cluster=$(mktemp -d /tmp/maraude-pg.XXXXXX)
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  chown nobody "$cluster"
  as_owner=(runuser -u nobody --)
fi
stop() {
  "${as_owner[@]}" "$bin/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$cluster"
}
trap stop EXIT

"${as_owner[@]}" "$bin/initdb" -D "$cluster/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Enough connections for the tests' servers side by side; no fsync: the
# cluster is thrown away.
"${as_owner[@]}" "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/log" -w -s \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $cluster -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start
export MARAUDE_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
export MARAUDE_TEST_POSTGRES_BIN="$bin"
"$@"
