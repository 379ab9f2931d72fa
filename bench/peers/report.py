#!/usr/bin/env python3
"""The peers report: medians per (size, engine) from peers.sh's raw runs.

    report.py RAW.jsonl OUT.json

Prints the Markdown tables (stdout) and writes OUT.json: {"medians": [...],
"raw": [...]}. Ratios are replyrate's over the contender's, within one size.
"""
import json
import statistics
import sys

KEYS = ("wall_s", "cpu_s", "events_per_cpu_s", "cpu_s_per_m", "peak_rss_mib")


def main():
    raw = [json.loads(line) for line in open(sys.argv[1])]
    groups = {}
    for r in raw:
        groups.setdefault((r["size"], r["engine"]), []).append(r)
    medians = []
    for (size, engine), runs in groups.items():
        m = {"size": size, "engine": engine, "events": runs[0]["events"], "repeats": len(runs)}
        for k in KEYS:
            m[k] = statistics.median(r[k] for r in runs if r[k] is not None)
        cmps = [r["compare"] for r in runs if "compare" in r]
        if cmps:
            m["equal"] = all(c.get("equal") for c in cmps)
            m["compared_keys"] = cmps[-1].get("keys")
            m["compared_metrics"] = sorted(cmps[-1].get("metrics", {}))
        if "verdicts" in runs[0]:
            m["verdicts"] = runs[0]["verdicts"]
        medians.append(m)
    with open(sys.argv[2], "w") as f:
        json.dump({"medians": medians, "raw": raw}, f, indent=1)
        f.write("\n")

    print("Medians over the repetitions (each repetition runs every engine back to back on the")
    print("same file). Events per CPU-second = input records / (user + sys); the ratios are")
    print("replyrate's advantage: its events per CPU-second over the contender's, and the")
    print("contender's peak RSS over replyrate's.")
    print()
    print("| events | engine | wall s | CPU s | M events / CPU-s | CPU-s / M events | peak RSS MiB "
          "| replyrate x (events/CPU-s) | RSS / replyrate's | records equal to replyrate's |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    by = {(m["size"], m["engine"]): m for m in medians}
    for m in sorted(medians, key=lambda m: (m["size"], m["engine"] != "replyrate", m["engine"])):
        rr = by.get((m["size"], "replyrate"))
        if m["engine"] == "replyrate" or rr is None:
            ratio = rss = "—"
        else:
            ratio = f"{rr['events_per_cpu_s'] / m['events_per_cpu_s']:.1f}"
            rss = f"{m['peak_rss_mib'] / rr['peak_rss_mib']:.1f}"
        if "equal" in m:
            eq = ("yes" if m["equal"] else "**NO**") + f" ({m['compared_keys']} keys: " \
                 + ", ".join(m["compared_metrics"]) + ")"
        else:
            eq = "reference" if m["engine"] == "replyrate" else "—"
        print(f"| {m['size']:,} | {m['engine']} | {m['wall_s']:.2f} | {m['cpu_s']:.2f} "
              f"| {m['events_per_cpu_s'] / 1e6:.2f} | {m['cpu_s_per_m']:.3f} | {m['peak_rss_mib']:.0f} "
              f"| {ratio} | {rss} | {eq} |")
    print()
    for m in medians:
        if "verdicts" in m:
            v = m["verdicts"]
            print(f"- replyrate's verdicts at {m['size']:,}: applied {v['applied']:,}, "
                  f"duplicate {v['duplicate']:,}, late {v['late']:,}, invalid {v['invalid']:,}")
    print()


if __name__ == "__main__":
    main()
