#!/usr/bin/env python3
"""Derives a provisional (or day-shifted) batch from a run, for tests/warehouse/postgres.sh:
the same change applied to an --output-dir (CSV) and to the same run's JSON Lines results,
so tests/warehouse/pgcheck.py can model the load of the one from the other.

  fixture.py SRC_DIR DST_DIR SRC.jsonl DST.jsonl [--shift-days N] [--revision R]

--shift-days N moves every result to N days later (new (shop_id, day) keys);
--revision R makes every result provisional: final false, revision R. Late and dead-letter
files are copied as they are, and so is the manifest (the files no longer match its
sha256: load them with --no-verify).
"""
import argparse
import csv
import datetime
import json
import os
import shutil

RESULT_FILES = ("shop_day", "shop_day_metrics", "agent_day", "agent_day_metrics", "violations", "alerts")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("src_jsonl")
    ap.add_argument("dst_jsonl")
    ap.add_argument("--shift-days", type=int, default=0)
    ap.add_argument("--revision", type=int)
    a = ap.parse_args()
    shift = datetime.timedelta(days=a.shift_days)

    os.makedirs(a.dst)
    for name in os.listdir(a.src):
        stem = name.split(".")[0]
        if stem not in RESULT_FILES:
            shutil.copy(os.path.join(a.src, name), os.path.join(a.dst, name))
            continue
        if not name.endswith(".csv"):
            raise SystemExit(f"{name}: fixture.py rewrites .csv only")
        with open(os.path.join(a.src, name), newline="") as f:
            rows = list(csv.reader(f))
        if rows:
            head = rows[0]
            for r in rows[1:]:
                day = head.index("day")
                r[day] = (datetime.date.fromisoformat(r[day]) + shift).isoformat()
                if a.revision is not None:
                    r[head.index("final")] = "false"
                    if "revision" in head:
                        r[head.index("revision")] = str(a.revision)
        with open(os.path.join(a.dst, name), "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)

    with open(a.src_jsonl) as f, open(a.dst_jsonl, "w") as out:
        for line in f:
            r = json.loads(line)
            d = datetime.date(r["day"] // 10000, r["day"] // 100 % 100, r["day"] % 100) + shift
            r["day"] = d.year * 10000 + d.month * 100 + d.day
            if a.revision is not None:
                r["final"] = False
                if r["type"] in ("shop_day", "agent_day"):
                    r["revision"] = a.revision
            out.write(json.dumps(r, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
