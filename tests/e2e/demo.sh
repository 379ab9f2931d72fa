#!/usr/bin/env bash
# `replyrate demo` (the README's first command), at the size users run it: no
# options. It runs the Kafka pipeline on librdkafka's in-process mock cluster
# and prints each platform's totals. The run must read every event the
# generator wrote (the summary's input is gen_summary's events) and its counts
# and totals must be file mode's over the same generated traffic: the same gen
# options written to files split by shop as the demo's topic is (as many files
# as its partitions), graded by `replyrate run`, the shop_day records summed
# per metric.
#
# Then a stream too big for the mock broker (it keeps 5 MiB of a partition and
# deletes the oldest records beyond): the demo must stop with status 3 naming
# the partition, never report totals over what was left (skipped with
# RR_E2E_QUICK).
set -euo pipefail
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" demo >"$tmp/demo.out" 2>"$tmp/demo.err" || fail "demo: $(grep -v '^%' "$tmp/demo.err" | tail -5)"
parts=$(python3 -c 'import json,sys
print([json.loads(l) for l in open(sys.argv[1]) if l.startswith("{\"type\":\"gen_summary\"")][0]["partitions"])' "$tmp/demo.err")
# the demo's generator settings (src/cli/cmd_demo.c: 1M events, seed 1), split as its topic is
outs=(); ins=()
for i in $(seq 0 $((parts - 1))); do outs+=(--output "$tmp/p$i.pb"); ins+=(--input "$tmp/p$i.pb"); done
"$bin" gen --events 1000000 --seed 1 --duplicate-rate 0.01 --disorder-rate 0.02 --late-rate 0.001 \
  --invalid-rate 0.001 --garbage-rate 0.0001 "${outs[@]}" 2>"$tmp/gen.err"
"$bin" run -q "${ins[@]}" --output "$tmp/file.jsonl" 2>"$tmp/file.err" || fail "file run: $(cat "$tmp/file.err")"

python3 - "$tmp" <<'EOF' || fail "the demo differs from file mode"
import json, re, sys
tmp = sys.argv[1]
def summary(path, kind):
    return [json.loads(l) for l in open(path) if l.startswith('{"type":"%s"' % kind)][-1]
gen = summary(f"{tmp}/demo.err", "gen_summary")
demo = summary(f"{tmp}/demo.err", "summary")
file = summary(f"{tmp}/file.err", "summary")
ok = True
if demo["input"] != gen["events"]:
    ok = False
    print(f"the demo's run read {demo['input']} of the {gen['events']} events generated")
for k in ("input", "applied", "duplicate", "late", "invalid", "shop_days", "agent_days", "violations", "alerts"):
    if demo[k] != file[k]:
        ok = False
        print(f"{k}: demo {demo[k]}, file mode {file[k]}")
if demo.get("missing_records") != 0 or demo.get("status") != 0:
    ok = False
    print("demo summary:", demo)
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
input=$(grep -o '"type":"summary","input":[0-9]*' "$tmp/demo.err" | grep -o '[0-9]*$')
echo "demo: default size, $parts partitions: input $input = file mode's, and its counts and per-metric totals ($(grep -c '%' "$tmp/demo.out") rows)"

[ -n "${RR_E2E_QUICK:-}" ] && exit 0
# 10M events: the largest shop alone outgrows the mock broker's partition
rc=0
"$bin" demo --events 10000000 >"$tmp/big.out" 2>"$tmp/big.err" || rc=$?
[ "$rc" = 3 ] || fail "demo --events 10000000: status $rc, not 3: $(grep -v '^%' "$tmp/big.err" | tail -3)"
grep -q 'incomplete input: demo.events\[[0-9]*\]: offsets 0\.\.[0-9]* were deleted' "$tmp/big.err" ||
  fail "demo --events 10000000 did not name the partition: $(grep -v '^%' "$tmp/big.err" | tail -3)"
grep -q 'platform' "$tmp/big.out" && fail "demo --events 10000000 printed totals over what was left"
echo "demo: 10M events, more than the mock broker keeps: status 3, $(grep -o 'demo.events\[[0-9]*\]' "$tmp/big.err" | head -1) named"
