#!/bin/sh
# Checks systemd unit files with `systemd-analyze verify`, which works offline (no systemd
# needs to run as PID 1). Fails on a non-zero exit *and* on any output: verify only warns
# (exit 0) about unknown keys or sections, and a misspelt hardening option silently does
# nothing.
#   systemd_units_verify.sh UNIT_FILE...
# Exit 77 (ctest SKIP_RETURN_CODE) without systemd-analyze, unless CI=true.
set -u

. "${0%/*}/support/prerequisites.sh"
need_tools systemd-analyze
require_prerequisites

status=0
for unit in "$@"; do
  # verify resolves the unit by its file name; run it where the file is.
  dir=$(dirname "$unit")
  name=$(basename "$unit")
  # --man=no: the man pages that Documentation= names are installed with the package, not
  # in the build tree; packaging_test.sh verifies the installed units with them.
  out=$(cd "$dir" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "./$name" 2>&1)
  rc=$?
  if [ $rc -ne 0 ] || [ -n "$out" ]; then
    echo "FAIL $unit (exit $rc):" >&2
    echo "$out" >&2
    status=1
  else
    echo "ok   $unit"
  fi
done
exit $status
