#!/usr/bin/env python3
"""Compare the Flink contender's records with replyrate's own output, per (shop, day, metric).

usage: compare.py REPLYRATE_OUT.jsonl PEER_RECORDS.jsonl
Only the metrics the peer computes are compared. Exit 0 when equal, 1 otherwise.
"""
import json
import sys

METRICS = ("douyin_msg_3min", "douyin_session_3min", "pdd_buyer_3min", "tmall_response_time")


def replyrate_records(path):
    out = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r.get("type") != "shop_day":
                continue
            for m, v in r["metrics"].items():
                if m in METRICS:
                    out[(r["shop_id"], r["day"], m)] = (
                        v["num"], v["den"], v.get("unanswered"), v.get("buckets"))
    return out


def peer_records(path):
    out = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            out[(r["shop_id"], r["day"], r["metric"])] = (
                r["num"], r["den"], r.get("unanswered"), r.get("buckets"))
    return out


def main():
    want = replyrate_records(sys.argv[1])
    got = peer_records(sys.argv[2])
    keys = sorted(set(want) | set(got))
    bad = [k for k in keys if want.get(k) != got.get(k)]
    for k in bad[:20]:
        print("differs", k, "replyrate", want.get(k), "peer", got.get(k))
    print(f"{len(keys)} (shop, day, metric) keys, {len(keys) - len(bad)} equal, {len(bad)} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
