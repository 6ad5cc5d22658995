#!/bin/sh
# Builds the .deb with CPack from a configured and built build folder, extracts it into a
# scratch root and checks what lands where, then runs `systemd-analyze verify` on the
# installed units inside that root.
#   packaging_test.sh BUILD_DIR
# Needs cpack, dpkg-deb and systemd-analyze (packages cmake, dpkg, systemd); exit 77
# (skip) without them unless CI=true. Leaves nothing behind: everything happens in a
# temp dir removed on exit.
set -eu

build=$(cd "$1" && pwd)
missing=""
for tool in cpack dpkg-deb systemd-analyze; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "missing:$missing (CI=true, so this is a failure)" >&2
    exit 1
  fi
  echo "missing:$missing: skipped" >&2
  exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/contd-packaging-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# cpack runs the install rules of the whole build into its own staging folder.
if ! (cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1); then
  cat "$work/cpack.log" >&2
  fail "cpack -G DEB"
fi
deb=$(ls "$work"/out/contd_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no contd_*.deb in $work/out: $(ls "$work/out")"
echo "built $(basename "$deb")"

# Control data: name, dependencies, conffiles, maintainer scripts.
dpkg-deb --field "$deb" Package | grep -qx contd || fail "Package is not contd"
depends=$(dpkg-deb --field "$deb" Depends)
echo "Depends: $depends"
for dep in containerd runc libseccomp2 libsystemd0; do
  echo "$depends" | grep -q "$dep" || fail "Depends lacks $dep"
done
[ -n "$(dpkg-deb --field "$deb" Maintainer)" ] || fail "no Maintainer"
dpkg-deb --control "$deb" "$work/control"
grep -qx /etc/contd/contd.json "$work/control/conffiles" || fail "contd.json is not a conffile"
grep -qx /etc/contd/seccomp.json "$work/control/conffiles" || fail "seccomp.json is not a conffile"
[ -x "$work/control/postinst" ] && [ -x "$work/control/prerm" ] || fail "maintainer scripts"

# The files, where a Debian system expects them.
root="$work/root"
dpkg-deb -x "$deb" "$root"
for f in usr/bin/contd usr/bin/contctl usr/libexec/contd/contd-shim-logs; do
  [ -x "$root/$f" ] || fail "$f missing or not executable"
done
for f in usr/lib/systemd/system/contd.service usr/lib/systemd/system/contd.socket \
  usr/lib/tmpfiles.d/contd.conf etc/contd/contd.json etc/contd/seccomp.json; do
  [ -f "$root/$f" ] || fail "$f missing"
done
grep -qx 'ExecStart=/usr/bin/contd --config /etc/contd/contd.json' \
  "$root/usr/lib/systemd/system/contd.service" || fail "ExecStart does not name /usr/bin/contd"
grep -q '"seccomp_profile": "/etc/contd/seccomp.json"' "$root/etc/contd/contd.json" ||
  fail "contd.json does not name the installed profile"
grep -q '"log_shim": "/usr/libexec/contd/contd-shim-logs"' "$root/etc/contd/contd.json" ||
  fail "contd.json does not name the installed log shim"
# Text files only (-I): binaries carry source paths in their debug info and asserts.
if grep -rIl "$build" "$root" >/dev/null 2>&1; then
  fail "build paths leaked into the package: $(grep -rIl "$build" "$root")"
fi
"$root/usr/bin/contd" --version | grep -q '^contd ' || fail "contd --version"

# systemd-analyze verify on the installed units, inside the scratch root. The host's unit
# folder stands in for the systemd and containerd packages the target system has.
mkdir -p "$root/lib/systemd" "$root/bin"
cp -a /lib/systemd/system "$root/lib/systemd/"
cp /bin/kill "$root/bin/kill"
out=$(SYSTEMD_LOG_COLOR=0 systemd-analyze --root="$root" verify \
  "$root/usr/lib/systemd/system/contd.service" "$root/usr/lib/systemd/system/contd.socket" 2>&1) ||
  fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify warned: $out"

echo "ok: $(dpkg-deb --contents "$deb" | wc -l) entries"
