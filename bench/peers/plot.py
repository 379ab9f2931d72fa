#!/usr/bin/env python3
"""The peers report's plots, from its JSON (bench/peers/report.py's medians).

    bench/peers/plot.py RESULT.json PREFIX

Writes PREFIX-throughput.png (events per CPU-second, i.e. per core fully used),
PREFIX-cpu.png (CPU-seconds per million events), PREFIX-memory.png (peak RSS) and,
when the run has more than one size, PREFIX-growth.png (CPU-seconds and peak RSS as
the input grows, log-log), then prints the Markdown that shows them. Runs itself in
bench/peers/.venv-plot (matplotlib as plot-requirements.txt pins it), made on first use.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(HERE, ".venv-plot")
REQS = os.path.join(HERE, "plot-requirements.txt")


def in_venv():
    """Re-run this script in the pinned venv (made once, remade when the pins change)."""
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    stamp = os.path.join(VENV, "requirements.txt")
    want = open(REQS).read()
    if not os.path.exists(py) or not os.path.exists(stamp) or open(stamp).read() != want:
        print(f"plot: installing {want.strip()} into {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "-r", REQS], check=True)
        with open(stamp, "w") as f:
            f.write(want)
    os.execv(py, [py] + sys.argv)


def engines_in(medians):
    names = sorted({m["engine"] for m in medians}, key=lambda e: (e != "replyrate", e))
    return names


def bars(plt, medians, key, scale, ylabel, title, path):
    sizes = sorted({m["size"] for m in medians})
    names = engines_in(medians)
    by = {(m["size"], m["engine"]): m for m in medians}
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    width = 0.8 / len(names)
    for i, e in enumerate(names):
        xs, ys = [], []
        for j, s in enumerate(sizes):
            if (s, e) in by and by[(s, e)][key]:
                xs.append(j + (i - (len(names) - 1) / 2) * width)
                ys.append(by[(s, e)][key] * scale)
        b = ax.bar(xs, ys, width, label=e)
        ax.bar_label(b, fmt="%.3g", fontsize=7)
    ax.set_yscale("log")
    ax.set_xticks(range(len(sizes)), [f"{s:,} events" for s in sizes])
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def growth(plt, medians, title, path):
    names = engines_in(medians)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4.5), dpi=100)
    for e in names:
        ms = sorted((m for m in medians if m["engine"] == e), key=lambda m: m["events"])
        xs = [m["events"] for m in ms]
        a.plot(xs, [m["cpu_s"] or None for m in ms], marker="o", label=e)
        b.plot(xs, [m["peak_rss_mib"] for m in ms], marker="o", label=e)
    for ax, ylabel in ((a, "CPU-seconds (user + sys)"), (b, "peak RSS (MiB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("input records")
        ax.set_ylabel(ylabel)
        ax.grid(which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot.py RESULT.json PREFIX")
    in_venv()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result, prefix = sys.argv[1], sys.argv[2]
    medians = json.load(open(result))["medians"]
    what = os.path.basename(prefix)
    plots = [
        ("throughput", "events_per_cpu_s", 1e-6, "M events per CPU-second",
         "Events per CPU-second (higher is better)"),
        ("cpu", "cpu_s_per_m", 1, "CPU-seconds per M events",
         "CPU-seconds per million events (lower is better)"),
        ("memory", "peak_rss_mib", 1, "peak RSS (MiB)", "Peak resident memory (lower is better)"),
    ]
    shown = []
    for name, key, scale, ylabel, title in plots:
        path = f"{prefix}-{name}.png"
        bars(plt, medians, key, scale, ylabel, f"{title}, {what}", path)
        shown.append((title, path))
    if len({m["size"] for m in medians}) > 1:
        path = f"{prefix}-growth.png"
        growth(plt, medians, f"Cost as the input grows, {what}", path)
        shown.append(("Cost as the input grows", path))
    for title, path in shown:
        print(f"![{title}]({os.path.basename(path)})")
        print()


if __name__ == "__main__":
    main()
