#!/usr/bin/env python3
"""Reads back a `replyrate report` page and compares its numbers with the same
run's JSON Lines records, computed here independently (tests/e2e/report.sh).

    report.py DOM.html SUMMARY.json RECORDS.jsonl LATE.jsonl DEAD.jsonl TOP [RAW.html]

DOM.html is the page as the browser built it (chromium --dump-dom), so what is
checked is what a reader's browser shows, not the bytes replyrate wrote. The
numbers are read from the page's data- attributes (docs/report.md): the
accounting, late and invalid events by reason, per metric the shop-days with
and without a score, the totals, the violations and the histogram, the worst
shop-days in order with their violations and alerts, and the heat map cell by
cell (local hour in the manifest's time zone, zoneinfo here, x wait bucket).
With RAW.html (a report of the same run in another form, csv.zst) the two
pages must carry the same numbers.
Exit 0 when everything matches, 1 with every difference listed.
"""
import collections
import datetime
import html.parser
import json
import sys
from fractions import Fraction
from zoneinfo import ZoneInfo

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
EDGES = [15000, 30000, 60000, 120000, 180000, 300000, 600000]
SHOW_MAX = 200


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.kids, self.text = [], []

    def all(self, pred):
        for k in self.kids:
            if pred(k):
                yield k
            yield from k.all(pred)

    def find(self, pred):
        return next(self.all(pred), None)

    def get_text(self):
        return "".join(self.text) + "".join(k.get_text() for k in self.kids)


class Tree(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.kids.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.kids.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text.append(data)


def parse(path):
    t = Tree()
    t.feed(open(path, encoding="utf-8").read())
    t.close()
    return t.root


problems = []


def check(what, got, want):
    if got != want:
        problems.append(f"{what}: the page says {got!r}, the records {want!r}")


def iso_day(d):
    return f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}"


def iso_ms(ms):
    t = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def bucket(wait):
    if wait is None:
        return 7
    return next((k for k, e in enumerate(EDGES) if wait <= e), 7)


def by_k(root, key):
    return [n for n in root.all(lambda n: n.attrs.get("data-k") == key)]


def one_k(root, key):
    found = by_k(root, key)
    if len(found) != 1:
        problems.append(f"data-k={key}: {len(found)} elements, expected 1")
        return None
    return found[0]


def numbers(root):
    """Every number the page carries, by where it is: for comparing two pages."""
    out = []
    for n in root.all(lambda n: any(a.startswith("data-") for a in n.attrs)):
        if n.attrs.get("data-k", "").startswith("rows_"):
            continue  # the same rows, but the paths and times differ
        out.append(tuple(sorted(n.attrs.items())))
    return out


def main():
    dom, summary_path, rec_path, late_path, dead_path, top = sys.argv[1:7]
    top = int(top)
    root = parse(dom)
    summary = json.load(open(summary_path))
    recs = [json.loads(line) for line in open(rec_path)]
    late = [json.loads(line) for line in open(late_path)]
    dead = [json.loads(line) for line in open(dead_path)]
    shop_days = [r for r in recs if r["type"] == "shop_day"]
    viols = [r for r in recs if r["type"] == "violation"]
    alerts = [r for r in recs if r["type"] == "alert"]

    # the run
    run = root.find(lambda n: n.attrs.get("id") == "run") or Node("table", {}, None)
    tz_name = one_k(run, "time_zone").get_text()
    versions = {r["version"] for r in recs}
    check("metric set", {one_k(run, "metric_set").get_text()}, versions)
    check("shop-days", int(one_k(run, "shop_days").attrs["data-v"]), len(shop_days))
    check("shops", int(one_k(run, "shops").attrs["data-v"]), len({r["shop_id"] for r in shop_days}))
    check("rows of violations", int(one_k(run, "rows_violations").attrs["data-v"]), len(viols))

    # accounting
    for k in ("input", "applied", "duplicate", "late", "invalid"):
        check(k, int(one_k(root, k).attrs["data-v"]), summary[k])
    for table, events in (("late-reasons", late), ("invalid-reasons", dead)):
        t = root.find(lambda n: n.attrs.get("id") == table)
        got = {n.attrs["data-reason"]: int(n.attrs["data-v"])
               for n in t.all(lambda n: "data-reason" in n.attrs)} if t else None
        check(f"{table}", got, dict(collections.Counter(e["reason"] for e in events)))

    # per metric
    names = {m for r in shop_days for m in r["metrics"]} | {v["metric"] for v in viols}
    sections = {n.attrs["data-metric"]: n
                for n in root.all(lambda n: n.tag == "section" and "data-metric" in n.attrs)}
    for name in sorted(set(sections) - names):  # in the config, shown by no shop-day
        check(f"{name}: shop-days", int(one_k(sections[name], "shop_days").attrs["data-v"]), 0)
    if not names <= set(sections):
        problems.append(f"metrics missing from the page: {sorted(names - set(sections))}")
    worst_checked = viol_rows_checked = 0
    for name in sorted(names & set(sections)):
        sec = sections[name]
        platform = sec.parent.attrs.get("data-platform")
        check(f"{name}: platform", platform, name.split("_", 1)[0])
        rows = [(r["shop_id"], r["day"], r["metrics"][name]) for r in shop_days if name in r["metrics"]]
        is_time = any("buckets" in v for _, _, v in rows)
        check(f"{name}: kind", sec.attrs["data-kind"], "response_time" if is_time else "rate")
        scored = [(s, d, v) for s, d, v in rows if v["den"] > 0]
        check(f"{name}: shop-days", int(one_k(sec, "shop_days").attrs["data-v"]), len(rows))
        check(f"{name}: scored", int(one_k(sec, "scored").attrs["data-v"]), len(scored))
        total = one_k(sec, "total")
        check(f"{name}: total", (int(total.attrs["data-num"]), int(total.attrs["data-den"]),
                                 int(total.attrs["data-unanswered"])),
              (sum(v["num"] for _, _, v in rows), sum(v["den"] for _, _, v in rows),
               sum(v.get("unanswered", 0) for _, _, v in rows)))
        mine = [v for v in viols if v["metric"] == name]
        check(f"{name}: violations", int(one_k(sec, "violations").attrs["data-v"]), len(mine))
        if not scored:
            continue
        hist = collections.Counter()
        for _, _, v in scored:
            if is_time:
                hist[next((k for k, e in enumerate(EDGES) if v["num"] <= e * v["den"]), 7)] += 1
            else:
                hist[min(v["num"] * 10 // v["den"], 9)] += 1
        got = {int(n.attrs["data-bin"]): int(n.attrs["data-count"])
               for n in sec.all(lambda n: "data-bin" in n.attrs)}
        check(f"{name}: histogram", {k: c for k, c in got.items() if c}, dict(hist))

        def key(e):
            s, d, v = e
            r = Fraction(v["num"], v["den"])
            return (-r if is_time else r, -v["den"], s, d)
        want = sorted(scored, key=key)[:top]
        entries = list(sec.all(lambda n: n.tag == "details" and "data-shop" in n.attrs))
        check(f"{name}: worst shop-days",
              [(int(e.attrs["data-shop"]), e.attrs["data-day"], int(e.attrs["data-num"]),
                int(e.attrs["data-den"])) for e in entries],
              [(s, iso_day(d), v["num"], v["den"]) for s, d, v in want])
        for e, (s, d, v) in zip(entries, want):
            worst_checked += 1
            where = f"{name}: shop {s} {iso_day(d)}"
            of = sorted((x for x in mine if x["shop_id"] == s and x["day"] == d),
                        key=lambda x: (x["round_start_ms"], x["conversation_id"], x["buyer_id"],
                                       x["agent_id"]))
            check(f"{where}: violations", int(e.attrs["data-violations"]), len(of))
            shown = [(int(r.attrs["data-conversation"]), int(r.attrs["data-buyer"]),
                      int(r.attrs["data-agent"]), r.attrs["data-round-start"],
                      int(r.attrs["data-wait-ms"]) if r.attrs["data-wait-ms"] else None,
                      r.attrs["data-reason"])
                     for r in e.all(lambda n: n.tag == "tr" and "data-conversation" in n.attrs)]
            viol_rows_checked += len(shown)
            check(f"{where}: the violations listed", shown,
                  [(x["conversation_id"], x["buyer_id"], x["agent_id"], iso_ms(x["round_start_ms"]),
                    x["wait_ms"], x["reason"]) for x in of[:SHOW_MAX]])
            check(f"{where}: alerts",
                  sorted((a.attrs["data-rule"], float(a.attrs["data-value"]))
                         for a in e.all(lambda n: "data-rule" in n.attrs)),
                  sorted((a["rule"], a["value"]) for a in alerts
                         if a["shop_id"] == s and a["day"] == d))

    # the heat maps: all platforms, then each
    tz = ZoneInfo(tz_name)
    def heat(vs):
        c = collections.Counter()
        for v in vs:
            hour = datetime.datetime.fromtimestamp(v["round_start_ms"] / 1000, tz).hour
            c[(hour, bucket(v["wait_ms"]))] += 1
        return c
    maps = {n.attrs.get("data-platform"): n
            for n in root.all(lambda n: n.tag == "svg" and n.attrs.get("class") == "heat")}
    for platform, svg in maps.items():
        vs = [v for v in viols if platform is None or v["metric"].split("_", 1)[0] == platform]
        got = {(int(n.attrs["data-hour"]), int(n.attrs["data-bucket"])): int(n.attrs["data-count"])
               for n in svg.all(lambda n: "data-hour" in n.attrs)}
        check(f"heat map {platform or 'all'}: cells", len(got), 24 * 8)
        check(f"heat map {platform or 'all'}", {k: c for k, c in got.items() if c}, dict(heat(vs)))
    if None not in maps:
        problems.append("no heat map of all platforms (svg.heat without data-platform)")
    heat_all = root.find(lambda n: n.attrs.get("id") == "heatmap")
    check("heat map total", int(one_k(heat_all, "heat_total").attrs["data-v"]) if heat_all else None,
          len(viols))

    if len(sys.argv) > 7:  # the same run in another form: the same numbers
        other = parse(sys.argv[7])
        a, b = numbers(root), numbers(other)
        if a != b:
            diff = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            problems.append(f"the {sys.argv[7]} page differs: {len(a)} vs {len(b)} numbers, first at "
                            f"{a[diff] if diff < len(a) else None} / {b[diff] if diff < len(b) else None}")

    if worst_checked < 20 or viol_rows_checked < 50:
        problems.append(f"only {worst_checked} worst shop-days and {viol_rows_checked} violation "
                        "rows read back: the test reads the page wrong")
    for p in problems[:40]:
        print("FAIL:", p)
    if problems:
        print(f"{len(problems)} difference(s)")
        return 1
    print(f"report: {len(sections)} metrics, {worst_checked} worst shop-days, {viol_rows_checked} "
          f"violation rows, {len(maps)} heat maps, {len(viols)} violations: as the records say")
    return 0


if __name__ == "__main__":
    sys.exit(main())
