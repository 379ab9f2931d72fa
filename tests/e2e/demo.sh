#!/usr/bin/env bash
# `replyrate demo` (the README's first command) runs the Kafka pipeline on
# librdkafka's in-process mock cluster and prints each platform's totals. Those
# totals must be the file-mode totals of the same generated traffic: the same
# gen options written to files split by shop as the demo's topic is, graded by
# `replyrate run`, and the shop_day records summed per metric.
set -euo pipefail
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" demo --events 150000 --seed 9 --partitions 3 >"$tmp/demo.out" 2>"$tmp/demo.err" ||
  fail "demo: $(tail -5 "$tmp/demo.err")"
# the demo's generator settings (src/cli/cmd_demo.c), into three files split by shop
"$bin" gen --events 150000 --seed 9 --duplicate-rate 0.01 --disorder-rate 0.02 --late-rate 0.001 \
  --invalid-rate 0.001 --garbage-rate 0.0001 \
  --output "$tmp/p0.pb" --output "$tmp/p1.pb" --output "$tmp/p2.pb" 2>/dev/null
"$bin" run -q --threads 1 --input "$tmp/p0.pb" --input "$tmp/p1.pb" --input "$tmp/p2.pb" \
  --output "$tmp/file.jsonl" 2>"$tmp/file.err" || fail "file run: $(cat "$tmp/file.err")"

python3 - "$tmp" <<'EOF' || fail "the demo's totals differ from file mode's"
import json, re, sys
tmp = sys.argv[1]
want = {}
shop_days = 0
for line in open(f"{tmp}/file.jsonl"):
    r = json.loads(line)
    if r["type"] != "shop_day":
        continue
    shop_days += 1
    for name, v in r["metrics"].items():
        n, d = want.get(name, (0, 0))
        want[name] = (n + v["num"], d + v["den"])
got = {}
for line in open(f"{tmp}/demo.out"):
    m = re.match(r"^(\w+)\s+(\w+)\s+[\d.]+\s*[%s]\s+(\d+)\s+(\d+)", line)
    if m:
        got[m.group(2)] = (int(m.group(3)), int(m.group(4)))
text = open(f"{tmp}/demo.out").read()
ok = True
if not got or got != want:
    ok = False
    print("demo totals:", got)
    print("file mode:  ", want)
if f"{shop_days} shop-day records read back" not in text:
    ok = False
    print(f"file mode has {shop_days} shop_day records; the demo says:", re.findall(r"\d+ shop-day records", text))
if "worst shops" not in text:
    ok = False
    print("no worst shops in the report")
sys.exit(0 if ok else 1)
EOF
echo "demo: per-metric totals through the mock cluster equal file mode's ($(grep -c '%' "$tmp/demo.out") rows)"
