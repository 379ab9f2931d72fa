#!/usr/bin/env bash
# `replyrate report` (docs/report.md): a generated night, run into --output-dir
# (csv, and csv.zst), made into a page that headless Chromium opens; every
# number read back from the page the browser built equals what the same run's
# JSON Lines records say, computed independently (tests/e2e/report.py); the
# screenshot is a real picture; and a directory that is no run's, or a file
# cut short, is refused by name with no page written.
set -uo pipefail
bin=$1
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  [ -n "${CI:-}" ] && fail "chromium is missing (deploy/setup.sh --deps installs it)"
  echo "report: chromium not installed here, the page not checked"; exit 77
fi

"$bin" --log-format json gen -n 100000 --days 2 --seed 18 --late-rate 0.01 --invalid-rate 0.01 \
  --duplicate-rate 0.005 --output "$tmp/in.pb.zst" 2>"$tmp/gen.log" || fail "gen: $(tail -3 "$tmp/gen.log")"
now=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["last_ts_ms"] + 3600000)' "$tmp/gen.log")
run() { "$bin" --log-format json run --input "$tmp/in.pb.zst" --now-ms "$now" "$@"; }
run -o "$tmp/r.jsonl" --late "$tmp/l.jsonl" --dead-letter "$tmp/d.jsonl" 2>"$tmp/run.log" ||
  fail "run -o: $(tail -3 "$tmp/run.log")"
grep '"type":"summary"' "$tmp/run.log" | tail -1 >"$tmp/summary.json"
run --output-dir "$tmp/night" 2>"$tmp/run.log" || fail "run --output-dir: $(tail -3 "$tmp/run.log")"
run --output-dir "$tmp/nightz" --output-format csv.zst 2>"$tmp/run.log" ||
  fail "run --output-dir csv.zst: $(tail -3 "$tmp/run.log")"

"$bin" report "$tmp/night" 2>"$tmp/report.log" || fail "report: $(cat "$tmp/report.log")"
page=$tmp/night/report.html
[ -s "$page" ] || fail "no $page (the default -o)"
"$bin" report "$tmp/nightz" -o "$tmp/z.html" 2>"$tmp/report.log" || fail "report csv.zst: $(cat "$tmp/report.log")"
"$bin" report "$tmp/night" --top 5 -o - 2>/dev/null | grep -c '<details class="shop"' >"$tmp/n5"
# five worst per scored metric, and every default metric has shop-days with a score here
[ "$(cat "$tmp/n5")" -ge 25 ] || fail "--top 5 -o -: $(cat "$tmp/n5") worst shop-days on stdout"
grep -qiE '<script|https?://' "$page" && fail "the page holds a script or a link out"

# The browser: the DOM it builds from the page, and what it paints.
chrome() { timeout 180 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$tmp/chromium" "$@" "file://$page" 2>>"$tmp/chromium.log"; }
chrome --dump-dom >"$tmp/dom.html" || fail "chromium --dump-dom: $(tail -3 "$tmp/chromium.log")"
chrome --screenshot="$tmp/page.png" --window-size=1280,2000 >/dev/null ||
  fail "chromium --screenshot: $(tail -3 "$tmp/chromium.log")"
python3 - "$tmp/page.png" <<'PY' || exit 1
import struct, sys
b = open(sys.argv[1], "rb").read()
if b[:8] != b"\x89PNG\r\n\x1a\n" or b[12:16] != b"IHDR":
    sys.exit("FAIL: the screenshot is no PNG")
w, h = struct.unpack(">II", b[16:24])
# a blank 1280x2000 page compresses to a few KB; the charts and tables do not
if (w, h) != (1280, 2000) or len(b) < 60000:
    sys.exit(f"FAIL: the screenshot is {w}x{h}, {len(b)} bytes: not the page")
PY
python3 "$src/tests/e2e/report.py" "$tmp/dom.html" "$tmp/summary.json" "$tmp/r.jsonl" \
  "$tmp/l.jsonl" "$tmp/d.jsonl" 20 "$tmp/z.html" || fail "the page's numbers are not the records'"

# Refusals: by name, exit 1, no page.
refused() { # dir, a phrase the message must hold
  rm -f "$1/report.html"
  if "$bin" report "$1" 2>"$tmp/err.log"; then fail "report $1 succeeded"; fi
  grep -qF -- "$2" "$tmp/err.log" || fail "report $1: the message does not say '$2': $(cat "$tmp/err.log")"
  [ -e "$1/report.html" ] && fail "report $1 failed but wrote a page"
  return 0
}
mkdir "$tmp/empty"
refused "$tmp/empty" "no manifest.json"
cp -r "$tmp/night" "$tmp/cut"
head -c 100000 "$tmp/night/violations.csv" >"$tmp/cut/violations.csv"
refused "$tmp/cut" "violations.csv: 100000 bytes, the manifest says"
python3 - "$tmp/cut/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); m["outputs"] = []  # a manifest that lists no sizes
json.dump(m, open(sys.argv[1], "w"))
PY
refused "$tmp/cut" "violations.csv:$(($(head -c 100000 "$tmp/night/violations.csv" | wc -l) + 1)): the last row has no line end"
"$bin" report 2>"$tmp/err.log"; [ $? -eq 2 ] || fail "report without DIR: not a usage error"
echo "report: ok"
