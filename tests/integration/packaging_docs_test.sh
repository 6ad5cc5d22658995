#!/usr/bin/env bash
# The man pages, the default config file and contctl's bash completion against the
# programs themselves, so none of them drifts from the code:
# - every flag of `contd --help` is in contd(8), every config key it lists is in
#   contd.json(5), docs/configuration.md and etc/contd.json.in;
# - every command and option of `contctl help` is in contctl(1);
# - the completion offers exactly contctl's commands, and for each command the options its
#   help line and its options section name; a few completions are tried for real.
#   packaging_docs_test.sh SOURCE_DIR BUILD_DIR
# Needs bash only. Leaves nothing behind.
set -eu

src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# The words of a man page without roff (font escapes and \- dropped), one space apart:
# a word is a run of letters, digits, '_' and '-'.
man_words() {
  sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' "$1" | tr -cs 'A-Za-z0-9_-' ' '
}
# Whether WORD is one of the words in WORDS.
has_word() {
  [[ " $2 " == *" $1 "* ]]
}

# ---- contd
contd_help=$("$build/bin/contd" --help)
contd_man=$(man_words "$src/man/contd.8")
json_man=$(man_words "$src/man/contd.json.5")
flags=$(printf '%s\n' "$contd_help" | sed -n 's/^  \(--[a-z-]*\).*/\1/p')
keys=$(printf '%s\n' "$contd_help" | sed -n '/^config file:/,$ s/^  \([a-z_]*\)$/\1/p')
[ -n "$flags" ] && [ -n "$keys" ] || fail "could not read flags and keys from contd --help"
for flag in $flags; do
  has_word "$flag" "$contd_man" || fail "contd(8) lacks $flag"
done
configuration=$(<"$src/docs/configuration.md")
default_config=$(<"$src/etc/contd.json.in")
for key in $keys; do
  has_word "$key" "$json_man" || fail "contd.json(5) lacks $key"
  [[ $configuration == *"\`$key\`"* ]] || fail "docs/configuration.md lacks $key"
  [[ $default_config == *"\"$key\":"* ]] || fail "etc/contd.json.in lacks $key"
done
echo "contd: $(echo $flags | wc -w) flags, $(echo $keys | wc -w) keys checked"

# ---- contctl
help=$("$build/bin/contctl" help)
contctl_man=$(man_words "$src/man/contctl.1")
commands=$(printf '%s\n' "$help" | sed -n '/^commands:/,/^$/ s/^  \([a-z]*\).*/\1/p')
options=$(printf '%s\n' "$help" | grep -oE -- '(^|[ [,])--?[a-z][a-z-]*' | sed 's/^[ [,]//' |
  sort -u)
[ -n "$commands" ] && [ -n "$options" ] || fail "could not read contctl help"
for word in $commands $options; do
  has_word "$word" "$contctl_man" || fail "contctl(1) lacks $word"
done

# The completion, loaded into this shell.
# shellcheck source=../../etc/bash-completion/contctl
. "$src/etc/bash-completion/contctl"
offered_commands=$(printf '%s\n' $_contctl_commands | sort)
[ "$offered_commands" = "$(printf '%s\n' $commands | sort)" ] ||
  fail "completion's commands ($(echo $offered_commands)) differ from contctl help ($(echo $commands))"
# What `contctl COMMAND -<TAB>` offers.
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _contctl
  [ "${#COMPREPLY[@]}" -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}"
}
all_offered=""
for command in $commands; do
  offered=$(complete_words contctl "$command" -)
  all_offered="$all_offered
$offered"
  # The options on the command's own help line ...
  line=$(printf '%s\n' "$help" | sed -n "/^commands:/,/^\$/ s/^  $command\( .*\)\{0,1\}\$/\1/p")
  wanted=$(printf '%s\n' "${line%%  *}" | grep -oE -- '(^|[ [])--?[a-z][a-z-]*' | sed 's/^[ []//')
  # ... those of a section naming it ("run options:", "ls and events options:"), and the
  # options of every command.
  wanted="$wanted $(printf '%s\n' "$help" | awk -v c="$command" '
    /^[a-z].*options:$/ { n = split($0, w, /[ :]/); f = 0
      for (i = 1; i <= n; i++) if (w[i] == c || $0 == "options of every command:") f = 1
      next }
    /^$/ { f = 0 }
    f { for (i = 1; i <= NF; i++) if ($i ~ /^--?[a-z]/) { sub(/,$/, "", $i); print $i } }')"
  for option in $wanted; do
    has_word "$option" "$(echo $offered)" ||
      fail "completion of 'contctl $command -' lacks $option"
  done
done
all_offered=$(echo $all_offered)
for option in $options; do
  has_word "$option" "$all_offered" || fail "the completion never offers $option"
done

# A few completions, as a user would press TAB.
expect() {
  local want=$1
  shift
  local got
  got=$(complete_words "$@" | sort | tr '\n' ' ')
  [ "$got" = "$want" ] || fail "completion of '$*': got '$got', want '$want'"
}
expect "images import info inspect " contctl i
expect "run " contctl --socket /x ru
expect "--rootfs --rootfs-propagation " contctl run ns1 c1 --rootfs
expect "rprivate rshared rslave " contctl run ns1 c1 --rootfs-propagation r
expect "--follow " contctl logs ns1 c1 --fo
expect "" contctl run ns1 c1 --rootfs /x -- --fo
expect "--namespace " contctl --json ls --na
echo "contctl: $(echo $commands | wc -w) commands, $(echo $options | wc -w) options checked"

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "ok"
