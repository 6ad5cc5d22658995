#!/bin/sh
# What systemd itself makes of contd's units: the real systemd binary loads them in test
# mode (`systemd --test --system`: load the units the way PID 1 does, work out the start
# transaction, print every loaded unit with its dependencies, and exit; nothing is started,
# no PID 1 is needed) and this checks the dependency graph:
# - contd.socket is not PartOf= (nor BindsTo=) contd.service, so contd.service has no
#   ConsistsOf=/BoundBy= contd.socket. PartOf= is exactly what makes systemd propagate a
#   stop or *restart* of contd.service to the socket (systemd.unit(5)); without it
#   `systemctl restart contd` and the package's upgrade restart leave the listening socket
#   open, and calls made meanwhile wait in its backlog (docs/operations.md).
# - contd.socket still triggers contd.service (socket activation).
# - contd.service runs with UMask 0027.
# As a control, the same check runs on a copy of the socket with PartOf=contd.service and
# must then find the ConsistsOf= edge: the check can see what it looks for.
#   systemd_units_graph.sh UNIT_DIR   (a folder with contd.service and contd.socket)
# systemd refuses test mode as root: as root it runs as nobody (setpriv). Exit 77 (skip)
# without systemd or setpriv, unless CI=true. Leaves nothing behind (a temp dir).
set -eu

units=$(cd "$1" && pwd)
systemd=""
for candidate in /lib/systemd/systemd /usr/lib/systemd/systemd; do
  [ -x "$candidate" ] && systemd=$candidate && break
done
. "${0%/*}/support/prerequisites.sh"
need systemd [ -n "$systemd" ]
as_user=""
if [ "$(id -u)" = 0 ]; then
  as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
  need_tools setpriv
fi
require_prerequisites

work=$(mktemp -d "${TMPDIR:-/tmp}/contd-units-graph-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# dump DIR: systemd's dump of the units in DIR (searched first, then systemd's own folders
# for the targets), starting contd.service. A stand-in containerd.service satisfies
# Requires= on a machine without containerd.
dump() {
  printf '[Unit]\nDescription=containerd stand-in\n[Service]\nExecStart=/bin/true\n' \
    >"$1/containerd.service"
  chmod 0755 "$work" "$1"
  chmod 0644 "$1"/*
  # shellcheck disable=SC2086 # as_user is a command and its arguments
  if ! env -i HOME=/ PATH=/usr/sbin:/usr/bin:/sbin:/bin SYSTEMD_UNIT_PATH="$1:" \
    $as_user "$systemd" --test --system --unit=contd.service --no-pager \
    >"$1.dump" 2>"$1.err"; then
    cat "$1.err" >&2
    fail "systemd --test on $1"
  fi
}

# section DUMP UNIT: the lines of UNIT in DUMP.
section() {
  awk -v unit="$2" '$0 == "\t-> Unit " unit ":" { f = 1; next } /^\t-> Unit / { f = 0 } f' "$1"
}

mkdir "$work/units"
cp "$units/contd.service" "$units/contd.socket" "$work/units/"
dump "$work/units"
socket=$(section "$work/units.dump" contd.socket)
service=$(section "$work/units.dump" contd.service)
echo "$socket" | grep -q "Fragment Path: $work/units/contd.socket" || fail "contd.socket not loaded"
echo "$service" | grep -q "Fragment Path: $work/units/contd.service" ||
  fail "contd.service not loaded"
if echo "$socket" | grep -E '^[[:space:]]+(PartOf|BindsTo): contd\.service'; then
  fail "contd.socket is PartOf/BindsTo contd.service: restarting contd restarts the socket"
fi
if echo "$service" | grep -E '^[[:space:]]+(ConsistsOf|BoundBy): contd\.socket'; then
  fail "contd.service propagates stop/restart to contd.socket"
fi
echo "$socket" | grep -qE '^[[:space:]]+Triggers: contd\.service' ||
  fail "contd.socket does not trigger contd.service"
echo "$service" | grep -qE '^[[:space:]]+UMask: 0027$' ||
  fail "contd.service: UMask is not 0027: $(echo "$service" | grep UMask)"
echo "ok   no stop/restart propagation from contd.service to contd.socket; socket triggers"
echo "     the service; UMask 0027"

# The control: with PartOf=contd.service the same dump shows the edge.
mkdir "$work/control"
cp "$units/contd.service" "$work/control/"
sed 's/^\[Unit\]$/[Unit]\nPartOf=contd.service/' "$units/contd.socket" >"$work/control/contd.socket"
dump "$work/control"
section "$work/control.dump" contd.service | grep -qE '^[[:space:]]+ConsistsOf: contd\.socket' ||
  fail "control: with PartOf=contd.service, systemd shows no ConsistsOf= edge"
echo "ok   control: PartOf=contd.service shows as contd.service ConsistsOf=contd.socket"
