#!/usr/bin/env bash
# The man page replyrate(1) that cmake --install puts in share/man/man1: groff sets
# it without a warning, it is what this binary's --help texts make (a help text
# changed and rebuilt shows in the page), and every option each command's --help
# names is in that command's part of the page (README.md, "Installing it as a service").
set -uo pipefail
bin=$1
build=$(dirname "$bin")
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
root=$tmp/root
if grep -q '^RR_MAN:BOOL=OFF' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "man: built with -DRR_MAN=OFF, no page to check"; exit 77
fi
cmake --install "$build" --prefix "$root" >"$tmp/install.log" 2>&1 || fail "cmake --install: $(tail -3 "$tmp/install.log")"
page=$root/share/man/man1/replyrate.1.gz
[ -f "$page" ] || fail "not installed: share/man/man1/replyrate.1.gz"
gzip -t "$page" || fail "replyrate.1.gz is no gzip file"
if ! command -v groff >/dev/null; then
  [ -n "${CI:-}" ] && fail "groff is missing (deploy/setup.sh --deps installs groff-base)"
  echo "man: groff not installed here, the page not checked"; exit 77
fi

# 1. No warning from groff (-ww: all of them) on the terminal devices a reader
# meets, nor from man -l where man is installed.
for dev in utf8 ascii; do
  zcat "$page" | groff -man -ww -z -T$dev 2>"$tmp/warn.$dev"
  [ -s "$tmp/warn.$dev" ] && fail "groff -T$dev: $(head -5 "$tmp/warn.$dev")"
done
if command -v man >/dev/null; then
  MANWIDTH=80 man -l "$page" >"$tmp/man.txt" 2>"$tmp/man.err" || fail "man -l: $(head -3 "$tmp/man.err")"
  [ -s "$tmp/man.err" ] && fail "man -l: $(head -5 "$tmp/man.err")"
  grep -q '^SYNOPSIS' "$tmp/man.txt" || fail "man -l shows no SYNOPSIS"
fi

# 2. The installed page is the one this binary's help texts make now: a help text
# changed without the page being rebuilt fails here (the date line aside).
python3 "$src/deploy/man/mkman.py" "$bin" "$src/deploy/man/replyrate.1.in" "$tmp/fresh.1" ||
  fail "deploy/man/mkman.py failed"
diff <(zcat "$page" | grep -v '^\.TH ') <(grep -v '^\.TH ' "$tmp/fresh.1") >"$tmp/stale.diff" ||
  fail "the installed page is not what the binary's --help texts make: $(head -8 "$tmp/stale.diff")"

# 3. Every option a --help names is in that command's part of the rendered page:
# the main text's in DESCRIPTION, each command's under COMMANDS, "replyrate CMD".
zcat "$page" | groff -man -Tascii -P-cbou 2>/dev/null >"$tmp/page.txt"
part() { # a heading regex, then the lines up to the next heading of that level or above
  awk -v h="$1" '$0 ~ h { on = 1; next } on && (/^[A-Z]/ || /^   replyrate /) { exit } on' "$tmp/page.txt"
}
options() { # the long options a help text names, and the short ones its items start with
  grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' "$1"
  grep -oE -- '^ +-[A-Za-z]([ ,]|$)' "$1" | tr -d ' ,'
}
checked=0
"$bin" --help >"$tmp/help.main" || fail "replyrate --help"
commands=$(sed -n '/^commands:/,/^$/p' "$tmp/help.main" | grep -oE '^  [a-z][a-z-]*' | tr -d ' ')
[ -n "$commands" ] || fail "replyrate --help lists no commands"
part '^DESCRIPTION$' >"$tmp/part.main"
for opt in $(options "$tmp/help.main" | sort -u); do
  grep -qE -- "(^|[^a-z0-9-])$opt([^a-z0-9-]|$)" "$tmp/part.main" || fail "DESCRIPTION lacks $opt (replyrate --help)"
  checked=$((checked + 1))
done
for cmd in $commands; do
  "$bin" "$cmd" --help >"$tmp/help.$cmd" || fail "replyrate $cmd --help exited $?"
  cmp -s "$tmp/help.$cmd" "$tmp/help.main" && continue # help: the main text
  part "^   replyrate $cmd\$" >"$tmp/part.$cmd"
  [ -s "$tmp/part.$cmd" ] || fail "the page has no section \"replyrate $cmd\""
  n=0
  for opt in $(options "$tmp/help.$cmd" | sort -u); do
    grep -qE -- "(^|[^a-z0-9-])$opt([^a-z0-9-]|$)" "$tmp/part.$cmd" ||
      fail "section \"replyrate $cmd\" lacks $opt (replyrate $cmd --help)"
    n=$((n + 1))
  done
  [ "$n" -ge 2 ] || fail "replyrate $cmd --help: no options found (the test reads it wrong)"
  checked=$((checked + n))
done
echo "man: replyrate.1.gz installed, sets without warnings, current with the help texts; $checked options found in their sections"
