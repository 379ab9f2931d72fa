#!/usr/bin/env bash
# `replyrate export --output-dir` (docs/kafka.md, "replyrate export"): the
# result topics of a publishing run read back into the loader files of `run
# --output-dir`, each file equal row for row to the run's own (the wide
# tables' columns from the same configuration), with a manifest a loader
# accepts; in csv.zst too. A configuration missing a metric the records carry
# fails the export, naming it, and publishes nothing.
source "$(dirname "$0")/lib.bash" export_dir "$1"

"$bin" --log-format json gen --events 60000 --seed 43 --days 2 --duplicate-rate 0.02 \
  --late-rate 0.005 --invalid-rate 0.005 --garbage-rate 0.001 --output "$tmp/in.pb" 2>/dev/null
"$bin" --log-format json load -q --brokers "$brokers" --topic "$id.events" --partitions 3 --input "$tmp/in.pb" 2>"$tmp/load.log" ||
  fail "load: $(cat "$tmp/load.log")"
"$bin" --log-format json run -q --until-end --now-ms "$now" --brokers "$brokers" --topic "$id.events" \
  --publish --topic-prefix "$id.out" --output-dir "$tmp/run" 2>"$tmp/run.log" || fail "run: $(cat "$tmp/run.log")"
topics=()
for t in shop_day agent_day violations alerts late dead_letter; do topics+=(--topic "$id.out.$t"); done

for fmt in csv csv.zst; do
  "$bin" --log-format json export --brokers "$brokers" "${topics[@]}" --output-dir "$tmp/exp-$fmt" \
    --output-format "$fmt" 2>"$tmp/export.log" || fail "export --output-format $fmt: $(cat "$tmp/export.log")"
  [ -s "$tmp/exp-$fmt/manifest.json" ] || fail "export --output-dir wrote no manifest"
  for f in shop_day shop_day_metrics agent_day agent_day_metrics violations alerts late dead_letter; do
    a="$tmp/run/$f.csv" b="$tmp/exp-$fmt/$f.$fmt"
    [ -s "$a" ] || fail "the run wrote no $f rows: the input is too small to mean anything"
    head -1 "$a" | cmp -s - <(zstd -dcqf "$b" | head -1) || fail "$f ($fmt): the export's header differs from the run's"
    cmp -s <(sort "$a") <(zstd -dcqf "$b" | sort) ||
      fail "$f ($fmt): $(wc -l <"$a") rows from the run, $(zstd -dcqf "$b" | wc -l) exported: $(diff <(sort "$a") <(zstd -dcqf "$b" | sort) | head -3)"
  done
done
python3 - "$tmp/exp-csv/manifest.json" <<'PY' || fail "the export's manifest does not list its files"
import json, sys
m = json.load(open(sys.argv[1]))
outs = [o for o in m["outputs"] if o["flag"] == "--output-dir"]
sys.exit(0 if m["complete"] and m["status"] == 0 and len(outs) == 8 and m["metric_set"].startswith("m") else 1)
PY

# a configuration without one of the records' metrics: refused, nothing published
"$bin" config print-default | sed '/name = "douyin_satisfaction"/,+1d' >"$tmp/less.conf"
"$bin" config check "$tmp/less.conf" >/dev/null 2>&1 || fail "the configuration without douyin_satisfaction does not load"
if "$bin" --log-format json export --brokers "$brokers" "${topics[@]}" --output-dir "$tmp/less" \
  --config "$tmp/less.conf" 2>"$tmp/less.log"; then fail "an export with a metric missing from --config succeeded"; fi
grep -q "douyin_satisfaction is not in the configuration" "$tmp/less.log" || fail "the message does not name the metric: $(cat "$tmp/less.log")"
[ ! -e "$tmp/less/shop_day.csv" ] && [ ! -e "$tmp/less/manifest.json" ] || fail "a failed export left files: $(ls "$tmp/less")"
echo "kafka export_dir: the result topics read back equal the run's loader files, in csv and csv.zst"
