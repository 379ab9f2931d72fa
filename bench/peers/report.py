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
            vals = [r[k] for r in runs if r[k] is not None]
            # None: too short for /usr/bin/time's 10 ms (the floor on a small input)
            m[k] = statistics.median(vals) if vals else None
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
    print("contender's peak RSS over replyrate's. Bytes per open conversation = peak RSS / the")
    print("most conversations replyrate held open at once on that input (its")
    print("`peak_open_conversations`), fixed costs (a JVM, its heap) included. The floor reads")
    print("the same input and computes nothing: how close replyrate runs to it.")
    print()
    print("| events | engine | wall s | CPU s | M events / CPU-s | CPU-s / M events | peak RSS MiB "
          "| bytes / open conversation "
          "| replyrate x (events/CPU-s) | RSS / replyrate's | records equal to replyrate's |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    by = {(m["size"], m["engine"]): m for m in medians}
    open_at = {m["size"]: m["verdicts"].get("peak_open_conversations")
               for m in medians if "verdicts" in m}
    def order(m):
        return (m["size"], {"floor": 0, "replyrate": 1}.get(m["engine"], 2), m["engine"])

    for m in sorted(medians, key=order):
        rr = by.get((m["size"], "replyrate"))
        if m["engine"] == "replyrate" or rr is None or not m["events_per_cpu_s"]:
            ratio = rss = "—"
        else:
            x = rr['events_per_cpu_s'] / m['events_per_cpu_s']
            ratio = f"{x:.1f}" if x >= 1 else f"{x:.2f}"
            rss = f"{m['peak_rss_mib'] / rr['peak_rss_mib']:.1f}"
        if "equal" in m:
            eq = ("yes" if m["equal"] else "**NO**") + f" ({m['compared_keys']} keys: " \
                 + ", ".join(m["compared_metrics"]) + ")"
        else:
            eq = {"replyrate": "reference", "floor": "— (reads and decodes, computes nothing)"}.get(
                m["engine"], "—")
        held = open_at.get(m["size"])
        per_conv = f"{m['peak_rss_mib'] * 1048576 / held:,.0f}" if held and m["engine"] != "floor" \
            else "—"
        rate = f"{m['events_per_cpu_s'] / 1e6:.2f}" if m["events_per_cpu_s"] else "—"
        print(f"| {m['size']:,} | {m['engine']} | {m['wall_s']:.2f} | {m['cpu_s']:.2f} "
              f"| {rate} | {m['cpu_s_per_m']:.3f} | {m['peak_rss_mib']:.0f} "
              f"| {per_conv} | {ratio} | {rss} | {eq} |")
    print()
    for m in medians:
        if "verdicts" in m:
            v = m["verdicts"]
            print(f"- replyrate's verdicts at {m['size']:,}: applied {v['applied']:,}, "
                  f"duplicate {v['duplicate']:,}, late {v['late']:,}, invalid {v['invalid']:,}; "
                  f"at most {v.get('peak_open_conversations', 0):,} conversations open at once")
    print()
    sizes = sorted(s for s, n in open_at.items() if n)
    if len(sizes) > 1 and open_at[sizes[-1]] > open_at[sizes[0]]:
        lo, hi = sizes[0], sizes[-1]
        print(f"What each more open conversation costs, from {lo:,} to {hi:,} events "
              f"({open_at[lo]:,} to {open_at[hi]:,} open): the growth of peak RSS over the growth "
              "of open conversations, fixed costs left out.")
        print()
        print("| engine | bytes per more open conversation |")
        print("|---|---:|")
        for e in sorted({m["engine"] for m in medians} - {"floor"}, key=lambda e: (e != "replyrate", e)):
            if (lo, e) in by and (hi, e) in by:
                d = (by[(hi, e)]["peak_rss_mib"] - by[(lo, e)]["peak_rss_mib"]) * 1048576
                print(f"| {e} | {d / (open_at[hi] - open_at[lo]):,.0f} |")
        print()


if __name__ == "__main__":
    main()
