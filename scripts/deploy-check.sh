#!/usr/bin/env bash
# Follows docs/deploy.md from scratch: runs every ```sh block of it, in
# order, in a temporary folder standing for / (ROOT), against a PostgreSQL
# cluster of its own (scripts/with-postgres.sh); then a tablet registers
# through the first server and another enrols through the second, and each
# sees what the other logged. Checks the systemd unit with
# systemd-analyze. Usage: scripts/deploy-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MARAUDE_TEST_DATABASE_URL:-}" ]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi
source scripts/setup-system.sh
install_debian_packages curl systemd

ROOT=$(mktemp -d /tmp/maraude-deploy.XXXXXX)
# The servers the page starts in the background stop with this script.
cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  rm -rf "$ROOT"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# What the page leaves to the reader: its secrets, its addresses.
# The servers say only what goes wrong.
export MARAUDE_LOG=warn
export ROOT PASSPHRASE="deploy check: a long passphrase for the server" \
  REGISTRATION_TOKEN="deploy-check-token" METRICS_TOKEN="deploy-check-metrics" \
  DATABASE_PASSWORD="deploy-check-database" LISTEN="127.0.0.1:$(free_port)"
ports=("$(free_port)" "$(free_port)")
listen_of() { case "$1" in first) echo "127.0.0.1:${ports[0]}" ;; second) echo "127.0.0.1:${ports[1]}" ;; esac; }
admin=$MARAUDE_TEST_DATABASE_URL
hostport=${admin#postgres://*@}
hostport=${hostport%%/*}
export DATABASE_HOST=${hostport%:*} DATABASE_PORT=${hostport#*:}
psql_admin() { "$MARAUDE_TEST_POSTGRES_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$admin" "$@"; }
wait_for() {
  for _ in $(seq 1 300); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "deploy-check: $1 never answered" >&2
  return 1
}
check_metrics() {
  curl -fsS "$1" | grep -q '^maraude_server_database_up 1' ||
    { echo "deploy-check: $1 does not say the database is up" >&2; return 1; }
}

# The page's blocks, in order, as one script: its functions and
# variables above, `set -e` for each step.
steps=$(awk '/^```sh$/ {on=1; next} /^```$/ {on=0} on' docs/deploy.md)
echo "== docs/deploy.md: $(grep -c '^```sh$' docs/deploy.md) steps"
eval "$steps"

echo "== a tablet registers through the first server, another enrols through the second"
maraude="${CARGO_TARGET_DIR:-target}/debug/maraude"
[ -x "$maraude" ] || cargo build -q --locked -p maraude-cli
export MARAUDE_PASSPHRASE="deploy check tablet passphrase" MARAUDE_VOLUNTEER=Mira MARAUDE_REGISTRATION_TOKEN=$REGISTRATION_TOKEN
first="$ROOT/first.maraude" second="$ROOT/second.maraude"
MARAUDE_STORE=$first "$maraude" init --antenna "Calais" >/dev/null
MARAUDE_STORE=$first "$maraude" shift start --lead Mira --load blanket=40 >/dev/null
MARAUDE_STORE=$first "$maraude" log distribution blanket 3 >/dev/null
MARAUDE_STORE=$first "$maraude" register --server "http://$(listen_of first)" >/dev/null
MARAUDE_STORE=$first "$maraude" sync >/dev/null
code=$(MARAUDE_STORE=$first "$maraude" --json enrolment-code --role lead | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
MARAUDE_STORE=$second "$maraude" enrol --server "http://$(listen_of second)" --code "$code" --device-name "Van 2" >/dev/null
MARAUDE_STORE=$second "$maraude" sync >/dev/null
given=$(MARAUDE_STORE=$second "$maraude" --json report night | python3 -c '
import json, sys
print(sum(i["quantity"] for i in json.load(sys.stdin)["distributions"] if i["item"] == "blanket"))')
[ "$given" = "3" ] || { echo "deploy-check: the second tablet sees $given blankets, not 3" >&2; exit 1; }

echo "== deploy/maraude-server.service (systemd-analyze verify)"
unit_dir=$(mktemp -d)
sed "s|/usr/local/bin/maraude-server|$ROOT/usr/local/bin/maraude-server|" deploy/maraude-server.service >"$unit_dir/maraude-server.service"
SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no "$unit_dir/maraude-server.service"
rm -rf "$unit_dir"
echo "== deploy-check: the guide works as written"
