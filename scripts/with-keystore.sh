#!/usr/bin/env bash
# Runs a command with a Secret Service to talk to, as a desktop session has:
# a D-Bus session bus and gnome-keyring, unlocked, on a keyring in a
# temporary folder. The quick unlock's tests and the app's end-to-end tests
# keep their PIN's secret there; MARAUDE_KEYSTORE_TEST tells the tests that
# one is running (without it the keystore test says it has nothing to test).
# Usage: scripts/with-keystore.sh COMMAND…
set -euo pipefail
if [ -z "${MARAUDE_KEYSTORE_SESSION:-}" ]; then
  # dbus-daemon complains that a container may not raise its file limit.
  exec dbus-run-session -- env MARAUDE_KEYSTORE_SESSION=1 "$0" "$@" 2> >(grep -v "Failed to set fd limit" >&2)
fi
keyrings=$(mktemp -d)
trap 'rm -rf "$keyrings"' EXIT
# gnome-keyring creates and unlocks the "login" keyring with this password
# (an empty one leaves it without a default collection to write to).
printf 'maraude-test' | XDG_DATA_HOME="$keyrings" gnome-keyring-daemon --unlock --components=secrets >/dev/null
export MARAUDE_KEYSTORE_TEST=1
"$@"
