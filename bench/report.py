#!/usr/bin/env python3
"""bench/report.py: turn the JSON lines bench/run.sh collected into the
markdown report (medians per mode, side-by-side ratios, targets).

    report.py RAW.jsonl [OLD_REV] > report.md

Rows whose mode is "old:MODE" come from another revision's build run in the
same repetitions (bench/run.sh --against REV): they get a table of their own,
new against old, and must have the same verdict counts.

Every ratio is computed within one repetition (the modes of a repetition
run back to back on the same machine state) and the median is taken over
repetitions, so slow phases of a noisy, shared machine cancel out instead
of landing in one numerator. Standard library only.
"""
import json
import statistics
import sys

MODES = ["read", "decode", "decode-pbc", "engine", "decode-mem", "engine-mem", "skeleton-mem",
         "compact-mem", "run", "run-split", "run-shards"]
WHAT = {
    "read": "open + zstd decompress + frame",
    "decode": "read + rr_decode_event (the floor)",
    "decode-pbc": "read + protobuf-c unpack/free_unpacked",
    "engine": "decode + rr_engine_offer + finish, null sink",
    "decode-mem": "decode from a decompressed in-memory buffer",
    "engine-mem": "decode + engine from the in-memory buffer",
    "skeleton-mem": "the engine's architecture without metrics, in-memory (the engine's floor)",
    "compact-mem": "prototype of the next design: compact record, default metrics as straight "
                   "code, in-memory (bench/compact.c)",
    "run": "`replyrate run` process, JSONL output (/usr/bin/time)",
    "run-split": "`run --threads 1` on the day split by shop into 2 files: one engine",
    "run-shards": "`run --threads 2` on the same 2 files: two shards on two threads",
}
TARGET_APPLY = 10e6  # decode + apply, events per CPU-second on one core
TARGET_FLOOR = 1.5   # end-to-end file run / read+decode floor


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def spread(xs):
    """min..max as a share of the median, to show how noisy a cell was."""
    if len(xs) < 2:
        return ""
    m = med(xs)
    return f" (±{(max(xs) - min(xs)) / 2 / m * 100:.0f}%)" if m else ""


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
    by = {}  # mode -> rep -> row
    for r in rows:
        by.setdefault(r["mode"], {})[r["rep"]] = r
    reps = sorted({r["rep"] for r in rows})
    out = []
    w = out.append

    w("| mode | measures | events | wall s | events/s (wall) | events/s per core (CPU) "
      "| CPU-s / M events | peak RSS MiB |")
    w("|---|---|---:|---:|---:|---:|---:|---:|")
    for m in MODES:
        rs = list(by.get(m, {}).values())
        if not rs:
            continue
        wall = [r["wall_s"] for r in rs]
        cpu = [r["cpu_s"] for r in rs]
        ev = rs[0]["events"]
        w(f"| {m} | {WHAT[m]} | {ev:,} | {med(wall):.3f}{spread(wall)} "
          f"| {med([ev / x for x in wall]) / 1e6:.2f} M "
          f"| {med([ev / x for x in cpu]) / 1e6:.2f} M "
          f"| {med([x / (ev / 1e6) for x in cpu]):.4f}{spread(cpu)} "
          f"| {med([r['peak_rss_mib'] for r in rs]):.0f} |")
    w("")
    w("Medians over %d repetitions; (±x%%) is half the min..max range over the median." % len(reps))
    w("")

    def ratio(a, b, key="cpu_s", sub=None):
        """Per-repetition a/b (or (a-sub)/(b-sub)), then the median and the range."""
        xs = []
        for rep in reps:
            try:
                ra, rb = by[a][rep][key], by[b][rep][key]
                if sub:
                    rs = by[sub][rep][key]
                    ra, rb = ra - rs, rb - rs
                if rb > 0:
                    xs.append(ra / rb)
            except KeyError:
                pass
        return xs

    def fmt(xs):
        if not xs:
            return "n/a"
        return f"{med(xs):.2f} ({min(xs):.2f}..{max(xs):.2f})"

    w("Ratios, each taken within one repetition, median (min..max) over repetitions:")
    w("")
    w("| ratio | CPU time | wall time |")
    w("|---|---:|---:|")
    table = [
        ("end-to-end file run / read+decode floor (`run` / `decode`)", "run", "decode", None),
        ("engine / read+decode floor (`engine` / `decode`)", "engine", "decode", None),
        ("`run` / `engine` (output, process start, tz load)", "run", "engine", None),
        ("engine-mem / decode-mem (decode + apply vs decode, no I/O)", "engine-mem",
         "decode-mem", None),
        ("engine-mem / skeleton-mem (the engine vs its architecture's floor)", "engine-mem",
         "skeleton-mem", None),
        ("compact-mem / engine-mem (the next design's prototype vs the engine)", "compact-mem",
         "engine-mem", None),
        ("protobuf-c / ours, read+decode (`decode-pbc` / `decode`)", "decode-pbc", "decode", None),
        ("protobuf-c / ours, decoder only ((`decode-pbc` − `read`) / (`decode` − `read`))",
         "decode-pbc", "decode", "read"),
        ("two shards / one engine on the split day (`run-shards` / `run-split`)", "run-shards",
         "run-split", None),
        ("two shards / read+decode floor (`run-shards` / `decode`)", "run-shards", "decode", None),
    ]
    for label, a, b, sub in table:
        w(f"| {label} | {fmt(ratio(a, b, 'cpu_s', sub))} | {fmt(ratio(a, b, 'wall_s', sub))} |")
    w("")

    w("Targets:")
    w("")
    em = [r["events"] / r["cpu_s"] for r in by.get("engine-mem", {}).values()]
    ef = [r["events"] / r["cpu_s"] for r in by.get("engine", {}).values()]
    fl = ratio("run", "decode")
    if em:
        ok = med(em) >= TARGET_APPLY
        w(f"- decode + apply >= 10 M events/s on one core: `engine-mem` "
          f"{med(em) / 1e6:.2f} M/s per CPU-second (`engine`, with zstd: "
          f"{med(ef) / 1e6:.2f} M/s): **{'met' if ok else 'NOT met'}**")
    if fl:
        ok = med(fl) <= TARGET_FLOOR
        flw = ratio("run", "decode", "wall_s")
        w(f"- end-to-end file run within 1.5x of the read+decode floor: "
          f"{med(fl):.2f}x (CPU), {med(flw):.2f}x (wall): **{'met' if ok else 'NOT met'}**")
    w("")

    old = {m[4:]: v for m, v in by.items() if m.startswith("old:")}
    if old:
        rev = sys.argv[2] if len(sys.argv) > 2 else "the old revision"
        w(f"Against {rev}, each ratio new / old within one repetition, median (min..max):")
        w("")
        w("| mode | old events/s per core (CPU) | new | new / old CPU time | new / old wall time |")
        w("|---|---:|---:|---:|---:|")
        for m in MODES:
            if m not in old or m not in by:
                continue
            ev = next(iter(old[m].values()))["events"]
            ocpu = [r["cpu_s"] for r in old[m].values()]
            ncpu = [r["cpu_s"] for r in by[m].values()]
            rc = [by[m][k]["cpu_s"] / old[m][k]["cpu_s"] for k in reps if k in by[m] and k in old[m]]
            rw = [by[m][k]["wall_s"] / old[m][k]["wall_s"] for k in reps if k in by[m] and k in old[m]]
            w(f"| {m} | {med([ev / x for x in ocpu]) / 1e6:.2f} M | {med([ev / x for x in ncpu]) / 1e6:.2f} M "
              f"| {fmt(rc)} | {fmt(rw)} |")
        keys = ("applied", "duplicate", "late", "invalid", "shop_days", "agent_days", "violations")
        diff = [(m, k) for m in old for k in reps if m in by and k in by[m] and k in old[m]
                and any(by[m][k].get(x) != old[m][k].get(x) for x in keys)]
        w("")
        w(f"**Old and new verdict counts differ** in {diff}." if diff
          else "Old and new verdict counts are identical in every mode and repetition.")
        w("")

    eng = list(by.get("engine", {}).values())
    if eng:
        e = eng[0]
        w("Engine verdicts (identical in every engine pass and in `run`'s summary): "
          f"applied {e['applied']:,}, duplicate {e['duplicate']:,}, late {e['late']:,}, "
          f"invalid {e['invalid']:,}; {e['shop_days']:,} shop-days, "
          f"{e['agent_days']:,} agent-days, {e['violations']:,} violations, "
          f"peak open conversations {e['peak_open_conversations']:,}.")
        mismatch = [
            (r["mode"], r["rep"]) for r in rows
            if r["mode"] in ("engine", "engine-mem", "run")
            and any(r.get(k) != e[k] for k in ("applied", "duplicate", "late", "invalid"))
        ]
        # The split day is other streams (two partitions): its modes agree with each other.
        split = list(by.get("run-split", {}).values())
        keys = ("applied", "duplicate", "late", "invalid", "shop_days", "agent_days", "violations")
        if split:
            mismatch += [(r["mode"], r["rep"]) for r in rows if r["mode"] in ("run-split", "run-shards")
                         and any(r.get(k) != split[0][k] for k in keys)]
            w("On the split day, one engine and two shards agree: "
              + ", ".join(f"{k} {split[0][k]:,}" for k in keys) + ".")
        sk = list(by.get("skeleton-mem", {}).values())
        if sk:
            w("Skeleton verdicts (it keeps 3 ids per conversation, so it misses some older "
              f"re-deliveries): applied {sk[0]['applied']:,}, duplicate {sk[0]['duplicate']:,}, "
              f"late {sk[0]['late']:,}, invalid {sk[0]['invalid']:,}.")
        cm = list(by.get("compact-mem", {}).values())
        ed = list(by.get("engine-digest", {}).values())
        if cm and ed:
            dkeys = ("applied", "duplicate", "late", "invalid", "digest")
            same = all(r.get(k) == ed[0].get(k) for r in cm for k in dkeys)
            d = ed[0]["digest"]
            w(("The compact prototype's verdicts and final records equal the engine's"
               if same else "**The compact prototype's records differ from the engine's**")
              + f" (order-free digests of {d['shop_days']:,} shop-days, {d['agent_days']:,} "
              f"agent-days and {d['violations']:,} violations; unsupported events: "
              f"{max(r.get('unsupported', 0) for r in cm)}).")
        if mismatch:
            w(f"**Verdict counts differ** in {mismatch}.")
        w("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
