# The shell integration tests' one rule for what they need (sourced, POSIX sh), the same
# as the C++ tests' (require.h): a missing prerequisite skips the test (exit 77, ctest's
# SKIP_RETURN_CODE), except with CI=true, where it is a failure (exit 1).
#
#   . "${0%/*}/support/prerequisites.sh"
#   need_tools tmux ip          # each one not on PATH is noted
#   need_root
#   need "systemd" false        # a condition of the test's own: note NAME when it fails
#   require_prerequisites       # skips or fails here when anything was noted

missing=""

need_tools() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
  done
}

need_root() {
  [ "$(id -u)" = 0 ] || missing="$missing root"
}

# need NAME COMMAND...: runs COMMAND; notes NAME when it fails.
need() {
  name=$1
  shift
  "$@" || missing="$missing $name"
}

require_prerequisites() {
  [ -z "$missing" ] && return 0
  if [ "${CI:-}" = "true" ]; then
    echo "missing:$missing (CI=true, so this is a failure)" >&2
    exit 1
  fi
  echo "missing:$missing: skipped" >&2
  exit 77
}
