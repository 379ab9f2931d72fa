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
# Then the same at 10M events (skipped with RR_E2E_QUICK), far more than the
# mock broker keeps (5 MiB of a partition; it deletes the oldest records
# beyond, and the largest shop alone is about 30 MB of them): the demo reads
# the topic while it is written, so it must still read every event.
set -euo pipefail
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# check_demo EVENTS [demo options]: the demo at that size against file mode
check_demo() {
  local events=$1; shift
  local d="$tmp/$events"
  mkdir "$d"
  "$bin" --log-format json demo "$@" >"$d/demo.out" 2>"$d/demo.err" ||
    fail "demo $*: status $?: $(grep -v '^%' "$d/demo.err" | tail -5)"
  local parts
  parts=$(python3 -c 'import json,sys
print([json.loads(l) for l in open(sys.argv[1]) if l.startswith("{\"type\":\"gen_summary\"")][0]["partitions"])' "$d/demo.err")
  # the demo's generator settings (src/cli/cmd_demo.c: seed 1, every knob), split as its topic is
  local outs=() ins=()
  for i in $(seq 0 $((parts - 1))); do outs+=(--output "$d/p$i.pb"); ins+=(--input "$d/p$i.pb"); done
  "$bin" --log-format json gen --events "$events" --seed 1 --duplicate-rate 0.01 --disorder-rate 0.02 --late-rate 0.001 \
    --invalid-rate 0.001 --garbage-rate 0.0001 "${outs[@]}" 2>"$d/gen.err"
  "$bin" --log-format json run -q "${ins[@]}" --output "$d/file.jsonl" 2>"$d/file.err" || fail "file run: $(cat "$d/file.err")"
  rm -f "$d"/p*.pb

  python3 - "$d" <<'EOF' || fail "the demo ($events events) differs from file mode"
import json, re, sys
d = sys.argv[1]
def summary(path, kind):
    return [json.loads(l) for l in open(path) if l.startswith('{"type":"%s"' % kind)][-1]
gen = summary(f"{d}/demo.err", "gen_summary")
demo = summary(f"{d}/demo.err", "summary")
file = summary(f"{d}/file.err", "summary")
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
for line in open(f"{d}/file.jsonl"):
    r = json.loads(line)
    if r["type"] != "shop_day":
        continue
    shop_days += 1
    for name, v in r["metrics"].items():
        n, den = want.get(name, (0, 0))
        want[name] = (n + v["num"], den + v["den"])
got = {}
for line in open(f"{d}/demo.out"):
    m = re.match(r"^(\w+)\s+(\w+)\s+[\d.]+\s*[%s]\s+(\d+)\s+(\d+)", line)
    if m:
        got[m.group(2)] = (int(m.group(3)), int(m.group(4)))
text = open(f"{d}/demo.out").read()
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
  local input
  input=$(grep '^{"type":"summary"' "$d/demo.err" | grep -o '"input":[0-9]*' | grep -o '[0-9]*$')
  echo "demo: $events events, $parts partitions: input $input = gen's = file mode's, and its counts and per-metric totals ($(grep -c '%' "$d/demo.out") rows)"
}

check_demo 1000000
[ -n "${RR_E2E_QUICK:-}" ] && exit 0
check_demo 10000000 --events 10000000
