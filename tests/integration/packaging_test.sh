#!/bin/sh
# The .deb as a distribution and a node-image builder get it:
# 1. cpack -G DEB in a configured and built build folder makes contd_*.deb and
#    contd-dbgsym_*.ddeb; control data, stripped binaries, debug files by build-id.
# 2. lintian on both: any error or warning not overridden in the package fails.
# 3. The files, extracted: where a Debian system expects them, modes, man pages, and
#    `systemd-analyze verify` on the installed units (with the installed man pages, so
#    Documentation= must name real pages).
# 4. dpkg installs the package into a scratch root, twice (an upgrade), then removes and
#    purges it: enablement symlinks made without a running systemd, tmpfiles folders and
#    modes, an admin's disable kept across the upgrade, conffiles kept on removal, and
#    nothing of the package left after the purge.
#   packaging_test.sh BUILD_DIR
# Needs root and cpack, dpkg, dpkg-deb, lintian, systemd-analyze, systemd-tmpfiles,
# deb-systemd-helper, readelf, unshare (packages cmake, dpkg, lintian, systemd,
# init-system-helpers, binutils, util-linux); exit 77 (skip) without them unless CI=true.
# Never touches the host's /etc, /usr, /var or /run: every dpkg run happens in a mount
# namespace where they are read-only. Leaves nothing behind: everything happens in a temp
# dir removed on exit.
set -eu

build=$(cd "$1" && pwd)
. "${0%/*}/support/prerequisites.sh"
need_tools cpack dpkg dpkg-deb lintian systemd-analyze systemd-tmpfiles deb-systemd-helper \
  readelf unshare
need_root
require_prerequisites

work=$(mktemp -d "${TMPDIR:-/tmp}/contd-packaging-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# ---- 1. Build the packages. cpack runs the install rules of the whole build into its own
# staging folder, then cmake/fix-dbgsym.cmake mends the .ddeb.
if ! (cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1); then
  cat "$work/cpack.log" >&2
  fail "cpack -G DEB"
fi
deb=$(ls "$work"/out/contd_*.deb 2>/dev/null | head -n 1)
ddeb=$(ls "$work"/out/contd-dbgsym_*.ddeb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no contd_*.deb in $work/out: $(ls "$work/out")"
echo "built $(basename "$deb") ($(wc -c <"$deb") bytes)"
# A build with debug info (RelWithDebInfo, Debug) also makes the -dbgsym package; a Release
# or MinSizeRel build has none to keep.
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
case $build_type in
  Release | MinSizeRel)
    [ -z "$ddeb" ] || fail "a $build_type build made $(basename "$ddeb")"
    ;;
  *)
    [ -n "$ddeb" ] || fail "no contd-dbgsym_*.ddeb in $work/out: $(ls "$work/out")"
    echo "built $(basename "$ddeb") ($(wc -c <"$ddeb") bytes)"
    ;;
esac

# Control data: name, version, dependencies, conffiles, maintainer scripts.
dpkg-deb --field "$deb" Package | grep -qx contd || fail "Package is not contd"
version=$(dpkg-deb --field "$deb" Version)
depends=$(dpkg-deb --field "$deb" Depends)
echo "Version: $version; Depends: $depends"
for dep in containerd runc libseccomp2 libsystemd0; do
  echo "$depends" | grep -q "$dep" || fail "Depends lacks $dep"
done
[ -n "$(dpkg-deb --field "$deb" Maintainer)" ] || fail "no Maintainer"
dpkg-deb --control "$deb" "$work/control"
grep -qx /etc/contd/contd.json "$work/control/conffiles" || fail "contd.json is not a conffile"
grep -qx /etc/contd/seccomp.json "$work/control/conffiles" || fail "seccomp.json is not a conffile"
for script in postinst prerm postrm; do
  [ -x "$work/control/$script" ] || fail "maintainer script $script missing"
done
if [ -n "$ddeb" ]; then
  dpkg-deb --field "$ddeb" Depends | grep -qx "contd (= $version)" ||
    fail "contd-dbgsym does not depend on contd (= $version)"
fi

# ---- 2. lintian: no error, no warning that the package does not override with a reason
# (etc/debian/lintian-overrides). Its output is printed either way.
lintian_rc=0
# Its temporary files (mldbm-elf-*, which it leaves behind) go to the work folder, in both
# of its runs.
mkdir -p "$work/lintian-tmp"
TMPDIR="$work/lintian-tmp" lintian --fail-on error,warning "$deb" ${ddeb:+"$ddeb"} \
  >"$work/lintian.txt" 2>&1 || lintian_rc=$?
grep -v '^running with root privileges' "$work/lintian.txt" | sed 's/^/lintian: /'
[ "$lintian_rc" = 0 ] || fail "lintian found errors or warnings (exit $lintian_rc)"
echo "lintian: no errors, no warnings (overridden: $(TMPDIR="$work/lintian-tmp" \
  lintian --show-overrides "$deb" 2>/dev/null | grep -c '^O:'))"

# ---- 3. The files, where a Debian system expects them.
root="$work/root"
dpkg-deb -x "$deb" "$root"
for f in usr/bin/contd usr/bin/contctl usr/libexec/contd/contd-shim-logs \
  usr/libexec/contd/contd-keeper; do
  [ -x "$root/$f" ] || fail "$f missing or not executable"
done
for f in usr/lib/systemd/system/contd.service usr/lib/systemd/system/contd.socket \
  usr/lib/tmpfiles.d/contd.conf etc/contd/contd.json etc/contd/seccomp.json \
  usr/share/doc/contd/copyright usr/share/doc/contd/changelog.Debian.gz \
  usr/share/doc/contd/operations.md usr/share/man/man8/contd.8.gz \
  usr/share/man/man1/contctl.1.gz usr/share/man/man5/contd.json.5.gz \
  usr/share/bash-completion/completions/contctl usr/share/lintian/overrides/contd; do
  [ -f "$root/$f" ] || fail "$f missing"
done
grep -qx 'ExecStart=/usr/bin/contd --config /etc/contd/contd.json' \
  "$root/usr/lib/systemd/system/contd.service" || fail "ExecStart does not name /usr/bin/contd"
grep -qx 'UMask=0027' "$root/usr/lib/systemd/system/contd.service" || fail "no UMask=0027"
grep -qx 'Documentation=file:///usr/share/doc/contd/operations.md' \
  "$root/usr/lib/systemd/system/contd.service" || fail "Documentation= does not name the docs"
grep -q '^PartOf=' "$root/usr/lib/systemd/system/contd.socket" &&
  fail "contd.socket is PartOf= a unit: restarting it would close the socket"
grep -q '"seccomp_profile": "/etc/contd/seccomp.json"' "$root/etc/contd/contd.json" ||
  fail "contd.json does not name the installed profile"
grep -q '"log_shim": "/usr/libexec/contd/contd-shim-logs"' "$root/etc/contd/contd.json" ||
  fail "contd.json does not name the installed log shim"
# Text files only (-I): binaries carry source paths in their debug info and asserts.
if grep -rIl "$build" "$root" >/dev/null 2>&1; then
  fail "build paths leaked into the package: $(grep -rIl "$build" "$root")"
fi
"$root/usr/bin/contd" --version | grep -q '^contd ' || fail "contd --version"
# The changelog's latest entry is this version; the copyright file is machine-readable.
gzip -dc "$root/usr/share/doc/contd/changelog.Debian.gz" | head -n 1 |
  grep -q "^contd ($version) " || fail "changelog.Debian.gz does not start with $version"
head -n 1 "$root/usr/share/doc/contd/copyright" |
  grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' ||
  fail "copyright is not in the machine-readable format"

# Stripped binaries; with debug info, the debug info of each is in the .ddeb under its
# build id.
[ -z "$ddeb" ] || dpkg-deb -x "$ddeb" "$work/dbgsym"
for f in usr/bin/contd usr/bin/contctl usr/libexec/contd/contd-shim-logs \
  usr/libexec/contd/contd-keeper; do
  sections=$(LC_ALL=C readelf -S -W "$root/$f")
  if echo "$sections" | grep -qE ' \.(symtab|debug_info) '; then
    fail "$f is not stripped"
  fi
  [ -n "$ddeb" ] || continue
  id=$(LC_ALL=C readelf -n "$root/$f" | sed -n 's/^ *Build ID: *//p')
  [ -n "$id" ] || fail "$f has no build id"
  debug="$work/dbgsym/usr/lib/debug/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug"
  [ -f "$debug" ] || fail "no debug file for $f (build id $id) in $(basename "$ddeb")"
  # (readelf complains that a debug file's program interpreter has no content.)
  LC_ALL=C readelf -S -W "$debug" 2>/dev/null | grep -q ' \.debug_info ' ||
    fail "$debug has no .debug_info in a $build_type build"
done

# Modes as dpkg will install them: programs 0755, everything else 0644, folders 0755.
odd=$(dpkg-deb --contents "$deb" | awk '
  $1 ~ /^d/ && $1 != "drwxr-xr-x" { print }
  $1 ~ /^-/ && $6 ~ /^\.\/usr\/(bin|libexec)\// && $1 != "-rwxr-xr-x" { print }
  $1 ~ /^-/ && $6 !~ /^\.\/usr\/(bin|libexec)\// && $1 != "-rw-r--r--" { print }
  $2 != "root/root" { print }')
[ -z "$odd" ] || fail "unexpected modes or owners in the package: $odd"

# systemd-analyze verify on the installed units, inside the scratch root. The host's unit
# folder stands in for the systemd and containerd packages the target system has; MANPATH
# lets verify find the man pages Documentation= names.
mkdir -p "$root/lib/systemd" "$root/bin"
cp -a /lib/systemd/system "$root/lib/systemd/"
cp /bin/kill "$root/bin/kill"
out=$(MANPATH="$root/usr/share/man" SYSTEMD_LOG_COLOR=0 systemd-analyze --root="$root" verify \
  "$root/usr/lib/systemd/system/contd.service" "$root/usr/lib/systemd/system/contd.socket" 2>&1) ||
  fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify warned: $out"
echo "ok: $(dpkg-deb --contents "$deb" | wc -l) entries, stripped, units verified"

# ---- 4. dpkg into a scratch root.
# How: `dpkg --root` with --force-script-chrootless runs the maintainer scripts on this
# host with DPKG_ROOT set to the scratch root (the way Debian bootstraps foreign roots),
# so the root needs no shell, perl or systemd of its own, and the scripts must honour
# DPKG_ROOT: deb-systemd-helper and systemd-tmpfiles --root do, and the scripts start or
# stop nothing when DPKG_ROOT is set. That is also the node-image builder's case: no
# running systemd, so the enablement symlinks must be made by deb-systemd-helper itself.
# --force-depends: the scratch root has no containerd, runc or libraries.
# Safety: each dpkg run is in a private mount namespace where the host's /etc, /usr, /var
# and /run are bind-mounted read-only (but the folder holding the scratch root), so a
# script that missed DPKG_ROOT fails loudly instead of changing this machine.
sysroot="$work/sysroot"
# What a Debian system has before contd: dpkg's database and the folders of systemd.
mkdir -p "$sysroot/var/lib/dpkg/info" "$sysroot/var/lib/dpkg/updates" \
  "$sysroot/var/lib/dpkg/triggers" "$sysroot/etc/systemd/system" "$sysroot/var/lib/systemd" \
  "$sysroot/run" "$sysroot/var/log"
: >"$sysroot/var/lib/dpkg/status"
: >"$sysroot/var/lib/dpkg/available"
skeleton() {
  (cd "$sysroot" && find . -path ./var/lib/dpkg -prune -o -print | LC_ALL=C sort)
}
before=$(skeleton)

in_sandbox() {
  # shellcheck disable=SC2016 # expanded by the inner shell
  unshare --mount --propagation private sh -c '
    work=$1
    shift
    for dir in /etc /usr /var /run; do
      case "$work/" in "$dir"/*) continue ;; esac
      mount --bind "$dir" "$dir" && mount -o remount,bind,ro "$dir" || exit 99
    done
    exec "$@"' sh "$work" "$@"
}
dpkg_root() {
  if ! in_sandbox dpkg --root="$sysroot" --log="$work/dpkg.log" --force-script-chrootless \
    --force-depends "$@" >"$work/dpkg.out" 2>&1; then
    cat "$work/dpkg.out" >&2
    fail "dpkg $*"
  fi
}
# The sandbox itself: writing to the host's /etc from inside must fail.
if in_sandbox sh -c ': >/etc/contd-packaging-test' 2>/dev/null; then
  rm -f /etc/contd-packaging-test
  fail "the sandbox left /etc writable"
fi
status() {
  dpkg --root="$sysroot" --status contd 2>/dev/null | sed -n 's/^Status: //p'
}
# mode_of PATH: octal mode, owner and group of PATH in the scratch root.
mode_of() {
  stat -c '%a %U:%G' "$sysroot/$1"
}
wants_service="etc/systemd/system/multi-user.target.wants/contd.service"
wants_socket="etc/systemd/system/sockets.target.wants/contd.socket"

dpkg_root --install "$deb"
[ "$(status)" = "install ok installed" ] || fail "after install, status: $(status)"
[ "$(readlink "$sysroot/$wants_service")" = /usr/lib/systemd/system/contd.service ] ||
  fail "contd.service not enabled: $wants_service -> $(readlink "$sysroot/$wants_service")"
[ "$(readlink "$sysroot/$wants_socket")" = /usr/lib/systemd/system/contd.socket ] ||
  fail "contd.socket not enabled: $wants_socket -> $(readlink "$sysroot/$wants_socket")"
for check in "run/contd 755 root:root" "var/log/contd 750 root:root" \
  "usr/bin/contd 755 root:root" "usr/bin/contctl 755 root:root" \
  "usr/libexec/contd/contd-shim-logs 755 root:root" \
  "usr/libexec/contd/contd-keeper 755 root:root" "etc/contd 755 root:root" \
  "etc/contd/contd.json 644 root:root" "etc/contd/seccomp.json 644 root:root" \
  "usr/lib/systemd/system/contd.service 644 root:root" \
  "usr/lib/tmpfiles.d/contd.conf 644 root:root"; do
  set -- $check
  [ -e "$sysroot/$1" ] || fail "after install, $1 is missing"
  [ "$(mode_of "$1")" = "$2 $3" ] || fail "$1 is $(mode_of "$1"), want $2 $3"
done
echo "ok: installed into a scratch root: units enabled, /run/contd 0755, /var/log/contd 0750"

# An upgrade (the same package again) keeps them; one whose admin disabled contd.service
# (systemctl disable removes the symlink, deb-systemd-helper remembers the unit was
# enabled once) keeps it disabled.
dpkg_root --install "$deb"
[ -L "$sysroot/$wants_service" ] && [ -L "$sysroot/$wants_socket" ] ||
  fail "an upgrade lost the enablement symlinks"
rm "$sysroot/$wants_service"
dpkg_root --install "$deb"
[ ! -e "$sysroot/$wants_service" ] && [ ! -L "$sysroot/$wants_service" ] ||
  fail "an upgrade enabled contd.service again after the admin disabled it"
[ -L "$sysroot/$wants_socket" ] || fail "an upgrade lost contd.socket's symlink"
echo "ok: upgrades keep the units enabled, and keep an admin's disable"

# Removal: the programs go, the conffiles stay.
dpkg_root --remove contd
[ "$(status)" = "deinstall ok config-files" ] || fail "after remove, status: $(status)"
for f in usr/bin/contd usr/bin/contctl usr/lib/systemd/system/contd.service \
  usr/share/man/man8/contd.8.gz; do
  [ ! -e "$sysroot/$f" ] || fail "after remove, $f is still there"
done
[ -f "$sysroot/etc/contd/contd.json" ] || fail "remove deleted the conffile contd.json"

# Purge, with what contd leaves at run time: a container's log and health file, the API
# socket. Afterwards the root is as it was before the install.
mkdir -p "$sysroot/var/log/contd/ns1" "$sysroot/run/contd"
echo '2026-12-05T00:00:00.000000000Z stdout F hello' >"$sysroot/var/log/contd/ns1/web.log"
: >"$sysroot/var/log/contd/ns1/.web.log.health"
: >"$sysroot/run/contd/contd.sock"
dpkg_root --purge contd
[ -z "$(status)" ] || [ "$(status)" = "purge ok not-installed" ] ||
  fail "after purge, status: $(status)"
after=$(skeleton)
if [ "$before" != "$after" ]; then
  echo "left after purge:" >&2
  printf '%s\n' "$after" | grep -vxF "$before" >&2 || true
  fail "purge left files of the package in the scratch root"
fi
echo "ok: removed (conffiles kept), purged: nothing of the package is left"
