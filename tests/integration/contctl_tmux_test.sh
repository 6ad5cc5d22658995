#!/usr/bin/env bash
# contctl in a real terminal: a detached tmux session (80x24) on a private containerd and
# contd (contd-test-sandbox, the C++ fixtures' parts), read back with capture-pane.
#   contctl_tmux_test.sh SANDBOX CONTD CONTCTL
# Checks:
# - `contctl logs -f` of a running container shows its lines live in the pane;
# - after `tmux resize-window` the pane has the new width, and `contctl ps` in it prints the
#   same table as without a terminal: contctl does not cut tables to the terminal's width
#   (podman does not either), the terminal wraps long lines (capture-pane -J joins them);
# - terminal detection: `contctl import` of a relative path draws its progress bar (escape
#   codes, seen raw through pipe-pane) on a terminal only; with stderr a file, and in
#   `logs -f` and `ps` on the terminal, contctl writes no escape code at all.
# Needs root, tmux, containerd, runc, ip and busybox-static: exit 77 (skip) without them,
# a failure with CI=true. Leaves nothing: the tmux server (its own socket) is killed, the
# sandbox removes containerd, contd, the containers, the netns and its folders.
set -euo pipefail

sandbox_bin=$1
contd_bin=$2
contctl_bin=$3
. "${0%/*}/support/prerequisites.sh"
need_tools tmux
need_root
require_prerequisites

work=$(mktemp -d "${TMPDIR:-/tmp}/contd-tmux.XXXXXX")
tmux_sock=$work/tmux.sock
sandbox_pid=""
cleanup() {
  tmux -S "$tmux_sock" kill-server 2>/dev/null || true
  if [ -n "$sandbox_pid" ]; then
    exec 3>&-  # the sandbox's stdin ends: it removes everything
    wait "$sandbox_pid" || echo "sandbox clean-up failed (status $?)" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# The sandbox runs until fd 3 (its stdin) closes.
mkfifo "$work/hold"
"$sandbox_bin" "$contd_bin" "$contctl_bin" <"$work/hold" >"$work/env" &
sandbox_pid=$!
exec 3>"$work/hold"
for _ in $(seq 600); do
  grep -qx ready "$work/env" 2>/dev/null && break
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    status=0
    wait "$sandbox_pid" || status=$?
    sandbox_pid=""
    [ "$status" = 77 ] && { echo "sandbox: prerequisites missing: skipped" >&2; exit 77; }
    fail "the sandbox did not start (status $status)"
  fi
  sleep 0.1
done
grep -qx ready "$work/env" || fail "the sandbox did not get ready in 60 s"
socket=$(sed -n 's/^socket=//p' "$work/env")
netns=$(sed -n 's/^netns=//p' "$work/env")
rootfs=$(sed -n 's/^rootfs=//p' "$work/env")
ns=$(sed -n 's/^ns=//p' "$work/env")
ctl() { "$contctl_bin" --socket "$socket" "$@"; }
t() { tmux -S "$tmux_sock" "$@"; }
screen() { t capture-pane -p -t "$1"; }
esc=$(printf '\033')

# Waits until the pane's screen matches the extended regular expression.
wait_screen() {
  local pane=$1 pattern=$2
  for _ in $(seq 150); do
    screen "$pane" | grep -Eq "$pattern" && return 0
    sleep 0.1
  done
  screen "$pane" >&2
  fail "pane $pane never showed /$pattern/"
}

ctl run "$ns" ticker --rootfs "$rootfs" --netns "$netns" -- /bin/sh -c \
  'i=0; while true; do echo "tick $i"; i=$((i+1)); usleep 200000; done' >/dev/null
ctl run "$ns" a-container-with-a-long-command --rootfs "$rootfs" --netns "$netns" -- \
  /bin/sh -c 'trap "exit 0" TERM; while true; do sleep 1 & wait; done # padding padding' \
  >/dev/null

# A window running SCRIPT with sh once Enter is pressed in it, so that pipe-pane can record
# everything it writes from the start (sh is dash: it writes no escape codes of its own).
window() {
  local name=$1 script=$2
  printf 'read go\n%s\necho END\nexec sleep 600\n' "$script" >"$work/$name.sh"
  t new-window -d -t test -n "$name" "sh '$work/$name.sh'"
}
start() {  # start WINDOW [RAW]: record its raw output into RAW, then press Enter
  [ -z "${2:-}" ] || t pipe-pane -o -t "test:$1" "cat >>'$2'"
  t send-keys -t "test:$1" Enter
}

t new-session -d -s test -x 80 -y 24 -n main "sleep 600"

# 1. logs -f, live: the pane shows new lines as the container writes them.
window logs "'$contctl_bin' --socket '$socket' logs -f $ns ticker"
start logs "$work/logs.raw"
wait_screen test:logs '^tick 3$'
first=$(screen test:logs | grep -Eo '^tick [0-9]+$' | tail -1)
wait_screen test:logs "^tick $(( ${first#tick } + 5 ))\$"
echo "ok: logs -f shows lines live (${first} then 5 more)"

# 2. A resized window: contctl ps prints what it prints without a terminal, wrapped by it.
window ps "'$contctl_bin' --socket '$socket' ps -n $ns --no-trunc"
t resize-window -t test:ps -x 50 -y 30
width=$(t display-message -p -t test:ps '#{pane_width}')
[ "$width" = 50 ] || fail "the pane is $width columns wide after resize-window -x 50"
plain=$(ctl ps -n "$ns" --no-trunc)
start ps
wait_screen test:ps '^END$'
joined=$(t capture-pane -p -J -t test:ps | sed -n '/^NAMESPACE/,/^END$/p' | sed '$d' |
  sed 's/[[:space:]]*$//')
[ "$joined" = "$(printf '%s\n' "$plain" | sed 's/[[:space:]]*$//')" ] ||
  fail "ps on a 50-column terminal differs from ps without one:
$joined
---
$plain"
longest=$(t capture-pane -p -t test:ps | awk '{ if (length > n) n = length } END { print n }')
[ "$longest" -le 50 ] || fail "a screen line of $longest columns in a 50-column pane"
[ "$(printf '%s\n' "$plain" | awk '{ if (length > n) n = length } END { print n }')" -gt 50 ] ||
  fail "the table fits 50 columns anyway: the test would prove nothing"
echo "ok: ps after resize-window: the same table, wrapped by the terminal at $width columns"

# 3. Terminal detection: the progress bar of import only on a terminal.
layer=$work/image/layer
mkdir -p "$layer"
tar -C "$rootfs" -cf "$layer/layer.tar" .
diff_id=$(sha256sum "$layer/layer.tar" | cut -d' ' -f1)
arch=$(dpkg --print-architecture)
printf '{"architecture":"%s","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$arch" "$diff_id" >"$work/image/config.json"
config_id=$(sha256sum "$work/image/config.json" | cut -d' ' -f1)
mv "$work/image/config.json" "$work/image/$config_id.json"
mv "$layer" "$work/image/$diff_id"
printf '[{"Config":"%s.json","RepoTags":["tmux/img:1"],"Layers":["%s/layer.tar"]}]' \
  "$config_id" "$diff_id" >"$work/image/manifest.json"
tar -C "$work/image" -cf "$work/img.tar" manifest.json "$config_id.json" "$diff_id"
window import "cd '$work' && '$contctl_bin' --socket '$socket' import $ns ./img.tar --name tmux/tty:1"
start import "$work/import.raw"
wait_screen test:import '^END$'
screen test:import | grep -q "^tmux/tty:1  sha256:" || { screen test:import >&2; fail "import on a terminal"; }
screen test:import | grep -Eq "sending .*100%" || { screen test:import >&2; fail "no progress bar"; }
grep -q "${esc}\\[K" "$work/import.raw" || fail "no escape code from the progress bar on a terminal"
(cd "$work" && ctl import "$ns" ./img.tar --name tmux/file:1 >"$work/import.out" 2>"$work/import.err")
grep -q "^tmux/file:1  sha256:" "$work/import.out" || fail "import without a terminal"
if grep -q "$esc" "$work/import.out" "$work/import.err"; then
  fail "escape codes without a terminal"
fi
[ ! -s "$work/import.err" ] || fail "progress written to a file: $(cat "$work/import.err")"
if grep -q "$esc" "$work/logs.raw"; then
  fail "logs -f wrote escape codes: $(od -c "$work/logs.raw" | head)"
fi
echo "ok: the progress bar and its escape codes on a terminal only"
echo "PASS"
