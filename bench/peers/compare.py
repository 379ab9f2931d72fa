#!/usr/bin/env python3
"""Compare a contender's records with replyrate's, per (shop_id, day, metric).

    compare.py REPLYRATE_OUT.jsonl CONTENDER_RECORDS.jsonl --metrics M1,M2,... [--json]

REPLYRATE_OUT is `replyrate run -o X.jsonl` output (its shop_day records);
CONTENDER_RECORDS is the comparison form of bench/peers/README.md, one JSON
object a line: {shop_id, day, metric, num, den[, unanswered, buckets]}.
Only the metrics named are compared. A metric whose den and unanswered are both
0 counts as absent on either side (replyrate leaves such metrics out).
Exit status 0 when every key matches, 1 otherwise; prints a summary and the
first differences.
"""
import argparse
import json
import sys

FIELDS = ("num", "den", "unanswered", "buckets")


def norm(m):
    """A metric's counts as a comparable tuple, or None when all zero."""
    unanswered = m.get("unanswered") or 0
    buckets = m.get("buckets")
    if not m.get("den") and not unanswered:
        return None
    return (m.get("num", 0), m.get("den", 0), unanswered, tuple(buckets) if buckets else None)


def load_replyrate(path, metrics):
    out = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r.get("type") != "shop_day":
                continue
            for name, m in r["metrics"].items():
                if name in metrics:
                    v = norm(m)
                    if v is not None:
                        out[(r["shop_id"], r["day"], name)] = v
    return out


def load_contender(path, metrics):
    out = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r["metric"] not in metrics:
                continue
            key = (r["shop_id"], r["day"], r["metric"])
            if key in out:
                raise SystemExit(f"compare: {path}: {key} appears twice")
            v = norm(r)
            if v is not None:
                out[key] = v
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("replyrate")
    ap.add_argument("contender")
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    args = ap.parse_args()
    metrics = set(args.metrics.split(","))
    want = load_replyrate(args.replyrate, metrics)
    got = load_contender(args.contender, metrics)
    diffs = []
    for key in sorted(set(want) | set(got)):
        if want.get(key) != got.get(key):
            diffs.append({"key": key, "replyrate": want.get(key), "contender": got.get(key)})
    per_metric = {}
    for m in sorted(metrics):
        keys = [k for k in want if k[2] == m]
        per_metric[m] = {"keys": len(keys), "differ": sum(1 for d in diffs if d["key"][2] == m)}
    summary = {"equal": not diffs, "keys": len(set(want) | set(got)), "differ": len(diffs),
               "metrics": per_metric}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"compare: {len(set(want) | set(got))} (shop, day, metric) keys, {len(diffs)} differ")
        for m, s in per_metric.items():
            print(f"  {m}: {s['keys']} keys, {s['differ']} differ")
    for d in diffs[:10]:
        print(f"  differs {d['key']}: replyrate {d['replyrate']} contender {d['contender']}",
              file=sys.stderr)
    sys.exit(0 if not diffs else 1)


if __name__ == "__main__":
    main()
