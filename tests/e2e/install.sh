#!/usr/bin/env bash
# cmake --install puts the binary, the example settings and the systemd units where a
# platform team expects them, the units point at the installed binary and at
# PREFIX/etc/replyrate, and systemd-analyze verify accepts them (docs/operations.md,
# "Running it as a service").
set -uo pipefail
bin=$1
build=$(dirname "$bin")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
root=$tmp/root
cmake --install "$build" --prefix "$root" >"$tmp/install.log" 2>&1 || fail "cmake --install: $(tail -3 "$tmp/install.log")"
units=$root/lib/systemd/system
ex=$root/share/doc/replyrate/examples
for f in bin/replyrate lib/systemd/system/replyrate-stream.service \
  lib/systemd/system/replyrate-nightly.service lib/systemd/system/replyrate-nightly.timer \
  share/doc/replyrate/examples/replyrate.conf share/doc/replyrate/examples/replyrate.env \
  share/doc/replyrate/examples/kafka.properties; do
  [ -e "$root/$f" ] || fail "not installed: $f"
done
"$root/bin/replyrate" --version | grep -q '^replyrate [0-9.]* (librdkafka' || fail "the installed binary does not run"
"$root/bin/replyrate" config check "$ex/replyrate.conf" >/dev/null || fail "the example config does not check"
for u in replyrate-stream.service replyrate-nightly.service; do
  grep -q "$root/bin/replyrate run" "$units/$u" || fail "$u does not start the installed binary"
  grep -q "EnvironmentFile=$root/etc/replyrate/replyrate.env" "$units/$u" || fail "$u: no settings file under the prefix"
  grep -q '@[A-Z]*@' "$units/$u" && fail "$u: an unreplaced @VAR@"
done
# the example kafka.properties is a valid -F file (all of it commented out)
"$root/bin/replyrate" run --brokers 127.0.0.1:1 --topic t --until-end -F "$ex/kafka.properties" \
  -X message.max.bytes=5 --output "$tmp/o.jsonl" 2>"$tmp/props.err"
grep -q "message.max.bytes=5" "$tmp/props.err" ||
  fail "the example kafka.properties is not read as -F: $(head -3 "$tmp/props.err")"
if ! command -v systemd-analyze >/dev/null; then
  [ -n "${CI:-}" ] && fail "systemd-analyze is missing (deploy/setup.sh --deps installs systemd)"
  echo "install: systemd-analyze not installed here, units not verified"; exit 77
fi
(cd "$units" && systemd-analyze verify ./replyrate-stream.service ./replyrate-nightly.service \
  ./replyrate-nightly.timer) >"$tmp/verify.log" 2>&1
[ $? = 0 ] && [ ! -s "$tmp/verify.log" ] || fail "systemd-analyze verify: $(head -5 "$tmp/verify.log")"
echo "install: binary, examples and systemd units installed; the units verify"
