#!/bin/sh
# contd's units under a real, private systemd: `systemctl restart contd.service` must leave
# contd.socket listening (same socket, never deactivated), so that calls made during a
# restart or an upgrade wait in its backlog (docs/operations.md). As a control, the same
# restart with PartOf=contd.service added to the socket (what the unit used to say) must
# restart the socket: the test sees the difference it is about.
#   systemd_socket_restart_test.sh UNIT_DIR   (a folder with contd.service and contd.socket)
#
# How: systemd runs as PID 1 of a new PID, mount, UTS, IPC and cgroup namespace, in a cgroup
# of its own, and loads only the units of a temp folder (SYSTEMD_UNIT_PATH): the real
# contd.socket and contd.service, with a drop-in that runs /bin/sleep in place of contd
# (the units' relations are under test, not contd) without the watchdog, a stand-in
# containerd.service (/bin/sleep too) and an empty sysinit.target. No unit of this
# machine is loaded, so nothing else starts. As a second guard, the private systemd sees
# the machine's root file system, /dev and /proc/sys read-only, a tmpfs of its own on /run
# (where the socket is made) and, with cgroup v1, on /sys/fs/cgroup.
#
# Needs root, unshare, nsenter, systemd and a writable cgroup hierarchy (cgroup v2, or v1
# with name=systemd); exit 77 (skip) without them unless CI=true. Leaves nothing behind:
# the private systemd is killed with its PID namespace, its cgroups and temp dir removed.
set -eu

units=$(cd "$1" && pwd)
systemd=""
for candidate in /lib/systemd/systemd /usr/lib/systemd/systemd; do
  [ -x "$candidate" ] && systemd=$candidate && break
done
. "${0%/*}/support/prerequisites.sh"
need systemd [ -n "$systemd" ]
need_tools unshare nsenter systemctl
need_root
# The cgroup hierarchies systemd needs: the unified one (v2), or v1's name=systemd (and the
# unified one beside it when the machine has one).
hierarchies=""
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  hierarchies=/sys/fs/cgroup
elif [ -d /sys/fs/cgroup/systemd ]; then
  hierarchies=/sys/fs/cgroup/systemd
  [ -f /sys/fs/cgroup/unified/cgroup.controllers ] &&
    hierarchies="$hierarchies /sys/fs/cgroup/unified"
fi
need cgroup-hierarchy [ -n "$hierarchies" ]
require_prerequisites

work=$(mktemp -d "${TMPDIR:-/tmp}/contd-socket-restart-XXXXXX")
# Older than every cgroup this run makes (their times are their creation).
started="$work.started"
touch "$started"
name=$(basename "$work")
manager=""
cleanup() {
  if [ -n "$manager" ]; then
    # PID 1 of the namespace: SIGKILL ends it and every process in its namespace.
    kill -KILL "$manager" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$manager" 2>/dev/null || break
      sleep 0.2
    done
  fi
  for hierarchy in $hierarchies; do
    if [ -d "$hierarchy/$name" ]; then
      find "$hierarchy/$name" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    fi
  done
  # The private systemd makes its units' cgroups at the root of each hierarchy it sees: the
  # bind-mounted ones and the v1 controllers it mounts itself (which its cgroup namespace
  # roots where this script's cgroup is), not in $name. Those made during this run go
  # (rmdir: only when empty, so never one in use).
  own_cgroups -exec rmdir {} \; 2>/dev/null || true
  rm -rf "$work"
}
# The cgroups the private systemd made, deepest first (find's actions follow).
own_cgroups() {
  find /sys/fs/cgroup -depth -type d -newer "$started" \( -name contd.service \
    -o -name contd.socket -o -name containerd.service -o -name system.slice \
    -o -name init.scope \) "$@"
}
trap 'cleanup; rm -f "$started"' EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$work/manager.log" ] && tail -n 30 "$work/manager.log" >&2
  exit 1
}

# The units: the real ones, a stand-in process, the targets they need.
mkdir -p "$work/units/contd.service.d"
cp "$units/contd.service" "$units/contd.socket" "$work/units/"
cat >"$work/units/contd.service.d/stand-in.conf" <<'EOF'
[Service]
Type=simple
ExecStart=
ExecStart=/bin/sleep infinity
ExecReload=
WatchdogSec=0
EOF
printf '[Unit]\nDescription=sysinit stand-in\n' >"$work/units/sysinit.target"
printf '[Service]\nExecStart=/bin/sleep infinity\n' >"$work/units/containerd.service"
printf '[Unit]\nDescription=test\nDefaultDependencies=no\n' >"$work/units/test.target"

# The private systemd. The shell that becomes it first moves into a cgroup of its own in
# each hierarchy; in its cgroup namespace that cgroup is the root it manages.
for hierarchy in $hierarchies; do
  mkdir "$hierarchy/$name"
done
# Inside the new namespaces, before systemd starts: the root file system, /dev and /proc/sys
# read-only, a /run of its own, and on v1 hosts a /sys/fs/cgroup of its own. systemd mounts
# the missing v1 controllers there and remounts that tmpfs read-only; on the machine's own
# tmpfs both would reach the host (a remount changes the superblock, which every mount
# namespace shares), so it gets a tmpfs of its own with the hierarchies it needs moved in.
cat >"$work/enter.sh" <<'EOF'
set -e
units=$1 systemd=$2 work=$3 hierarchies=$4
if [ "$hierarchies" != /sys/fs/cgroup ]; then
  mkdir "$work/cgroup"
  for hierarchy in $hierarchies; do
    mkdir "$work/cgroup/${hierarchy##*/}"
    mount --bind "$hierarchy" "$work/cgroup/${hierarchy##*/}"
  done
  mount -t tmpfs -o mode=0755 tmpfs /sys/fs/cgroup
  for hierarchy in $hierarchies; do
    mkdir "/sys/fs/cgroup/${hierarchy##*/}"
    mount --move "$work/cgroup/${hierarchy##*/}" "/sys/fs/cgroup/${hierarchy##*/}"
  done
fi
mount -o remount,bind,ro /
mount -o remount,bind,ro /dev
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
mount -t tmpfs -o mode=0755 tmpfs /run
exec env -i container=contd-test PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  SYSTEMD_UNIT_PATH="$units" "$systemd" --system --unit=test.target \
  --log-target=console --log-level=notice --show-status=no
EOF
# shellcheck disable=SC2016 # expanded by the inner shell
sh -c '
  for hierarchy in $1; do echo $$ >"$hierarchy/$2/cgroup.procs"; done
  exec unshare --pid --fork --mount --uts --ipc --cgroup --mount-proc \
    --propagation private sh "$3/enter.sh" "$3/units" "$4" "$3" "$1"
' sh "$hierarchies" "$name" "$work" "$systemd" >"$work/manager.log" 2>&1 &
launcher=$!
for _ in $(seq 1 50); do
  manager=$(cat "/proc/$launcher/task/$launcher/children" 2>/dev/null | tr -d ' ') || true
  [ -n "$manager" ] && break
  sleep 0.1
done
[ -n "$manager" ] || fail "the private systemd did not start"
in_ns() {
  nsenter -t "$manager" -m -p -- "$@"
}
state=""
for _ in $(seq 1 100); do
  state=$(in_ns systemctl is-system-running 2>/dev/null) || true
  case $state in running | degraded) break ;; esac
  sleep 0.2
done
case $state in running | degraded) ;; *) fail "the private systemd is '$state'" ;; esac
echo "private systemd running (pid $manager on this machine)"

# What identifies the listening socket: the unit's activation times and the socket file.
socket_id() {
  echo "$(in_ns systemctl show -P ActiveEnterTimestampMonotonic contd.socket)" \
    "$(in_ns systemctl show -P InactiveEnterTimestampMonotonic contd.socket)" \
    "$(in_ns stat -c %i /run/contd/contd.sock)"
}
service_pid() {
  in_ns systemctl show -P MainPID contd.service
}
restart_keeps_socket() {
  in_ns systemctl start contd.service || fail "systemctl start contd.service"
  [ "$(in_ns systemctl is-active contd.socket)" = active ] || fail "contd.socket is not active"
  before=$(socket_id)
  pid_before=$(service_pid)
  in_ns systemctl restart contd.service || fail "systemctl restart contd.service"
  [ "$(in_ns systemctl is-active contd.service)" = active ] || fail "contd.service not active"
  [ "$(service_pid)" != "$pid_before" ] || fail "contd.service was not restarted"
  after=$(socket_id)
  echo "socket before: $before; after: $after"
  [ "$before" = "$after" ]
}

restart_keeps_socket ||
  fail "restarting contd.service restarted contd.socket (the listening socket was closed)"
echo "ok   systemctl restart contd.service: contd.socket stays active, the same socket"
in_ns systemctl stop contd.service || fail "systemctl stop contd.service"
[ "$(in_ns systemctl is-active contd.socket)" = active ] ||
  fail "systemctl stop contd.service stopped contd.socket"
echo "ok   systemctl stop contd.service: contd.socket keeps listening"

# The control: the socket as it used to be, PartOf=contd.service.
mkdir "$work/units/contd.socket.d"
printf '[Unit]\nPartOf=contd.service\n' >"$work/units/contd.socket.d/part-of.conf"
in_ns systemctl daemon-reload || fail "systemctl daemon-reload"
if restart_keeps_socket; then
  fail "control: with PartOf=contd.service the socket survived the restart; the test sees nothing"
fi
echo "ok   control: with PartOf=contd.service, the restart restarts the socket"

# Nothing of the private systemd is left: its processes and the cgroups it made.
trap - EXIT
cleanup
left=$(own_cgroups -print 2>/dev/null) || true
rm -f "$started"
[ -z "$left" ] || fail "cgroups of the private systemd left behind: $left"
echo "ok   nothing left: the private systemd and the cgroups it made are gone"
