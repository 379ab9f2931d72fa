#!/usr/bin/env python3
"""Run metrics.sql over an exported Parquet file and write the records.

    run.py EVENTS.parquet RECORDS.jsonl [--threads N]

Writes one JSON line per (shop_id, day, metric) in the peers comparison form
(bench/peers/README.md).
"""
import argparse
import pathlib

import duckdb

HERE = pathlib.Path(__file__).resolve().parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("events")
    ap.add_argument("records")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: its default, all cores)")
    args = ap.parse_args()
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    con.read_parquet(args.events).create_view("raw")
    con.execute((HERE / "metrics.sql").read_text())
    con.execute(
        "COPY (SELECT shop_id, strftime(DATE '1970-01-01' + day_n::INT, '%Y%m%d')::INT AS day, "
        "metric, num, den, unanswered, buckets FROM result ORDER BY ALL) "
        f"TO '{args.records}' (FORMAT json)"
    )


if __name__ == "__main__":
    main()
