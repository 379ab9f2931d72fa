#!/usr/bin/env python3
"""Check an --output-dir against the same run's JSON Lines outputs.

usage: output_dir.py DIR EXT RESULTS.jsonl LATE.jsonl DEAD.jsonl

Every loader table is rebuilt from the record forms (docs/output.md) by rules
written here, independently of the engine's table writer, and compared cell by
cell, with types: ISO dates, UTC timestamps, empty cells or nulls where a value
does not apply, zeros for metrics not shown in the wide tables. The late and
dead_letter files must be the record forms themselves. The manifest must list
every file with its sha256.
"""
import csv, datetime, hashlib, io, json, os, subprocess, sys

d, ext, res_path, late_path, dead_path = sys.argv[1:6]
PER_AGENT = {"message_within", "response_time", "satisfaction"}


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def read_bytes(path):
    data = open(path, "rb").read()
    if path.endswith(".zst"):
        data = subprocess.run(["zstd", "-dcq"], input=data, stdout=subprocess.PIPE, check=True).stdout
    return data


def rows(name):
    """The table as a list of dicts of strings (CSV) or JSON values, and its columns."""
    data = read_bytes(os.path.join(d, name + "." + ext)).decode()
    if not data:
        return [], None
    if ext.startswith("csv"):
        r = list(csv.reader(io.StringIO(data, newline="")))
        head = r[0]
        return [dict(zip(head, x)) for x in r[1:]], head
    out = [json.loads(l) for l in data.splitlines()]
    return out, list(out[0].keys()) if out else None


def cell(v):
    """A value as the CSV form writes it; JSON rows are compared as JSON."""
    if ext.startswith("csv"):
        if v is None:
            return ""
        if v is True:
            return "true"
        if v is False:
            return "false"
        return str(v)
    return v


def iso_day(ymd):
    return "%04d-%02d-%02d" % (ymd // 10000, ymd // 100 % 100, ymd % 100)


def iso_ts(ms):
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


recs = [json.loads(l) for l in open(res_path)]
# the metric kinds by name, and the configuration's order, from the default
# config the run used (replyrate config --print-default is not needed: the
# wide header lists them, checked against the kinds the records show)
want = {t: [] for t in ("shop_day", "shop_day_metrics", "agent_day", "agent_day_metrics",
                        "violations", "alerts")}
shop_head, _ = None, None
tables = {t: rows(t) for t in want}


def wide_metrics(table):
    head = tables[table][1]
    if head is None:
        return []
    names, i = [], 6 if table == "agent_day" else 5
    while i < len(head):
        name = head[i][: -len("_num")]
        if head[i] != name + "_num" or head[i + 1] != name + "_den":
            fail("%s: columns %s are not NAME_num, NAME_den" % (table, head[i : i + 2]))
        rt = i + 2 < len(head) and head[i + 2] == name + "_unanswered"
        names.append((name, rt))
        i += 3 if rt else 2
    return names


for r in recs:
    t = r["type"]
    tail = [("final", cell(r["final"])), ("revision", cell(r.get("revision", 0))),
            ("version", r["version"])]
    if t in ("shop_day", "agent_day"):
        key = [("shop_id", cell(r["shop_id"]))]
        if t == "agent_day":
            key.append(("agent_id", cell(r["agent_id"])))
        key.append(("day", iso_day(r["day"])))
        wide = dict(key + tail)
        for name, rt in wide_metrics(t):
            m = r["metrics"].get(name, {})
            wide[name + "_num"] = cell(m.get("num", 0))
            wide[name + "_den"] = cell(m.get("den", 0))
            if rt:
                wide[name + "_unanswered"] = cell(m.get("unanswered", 0))
        want[t].append(wide)
        for name, m in r["metrics"].items():
            b = m.get("buckets")
            row = dict(key + [("metric", name), ("num", cell(m["num"])), ("den", cell(m["den"])),
                              ("unanswered", cell(m.get("unanswered")))]
                       + [("b%d" % k, cell(b[k] if b else None)) for k in range(8)] + tail)
            want[t + "_metrics"].append(row)
    elif t == "violation":
        ans = r["reply_ms"] is not None
        want["violations"].append({
            "shop_id": cell(r["shop_id"]), "day": iso_day(r["day"]), "metric": r["metric"],
            "conversation_id": cell(r["conversation_id"]), "buyer_id": cell(r["buyer_id"]),
            "agent_id": cell(r["agent_id"]), "round_start": iso_ts(r["round_start_ms"]),
            "reply_at": iso_ts(r["reply_ms"]) if ans else cell(None),
            "wait_ms": cell(r["wait_ms"]), "messages": cell(r["messages"]), "reason": r["reason"],
            "final": cell(r["final"]), "version": r["version"]})
    elif t == "alert":
        want["alerts"].append({"shop_id": cell(r["shop_id"]), "day": iso_day(r["day"]),
                               "rule": r["rule"], "value": cell(r["value"]),
                               "final": cell(r["final"]), "version": r["version"]})
    else:
        fail("unexpected record type %s" % t)

# every configured metric is a wide column, per-agent ones only in agent_day
shop_names = [n for n, _ in wide_metrics("shop_day")]
agent_names = [n for n, _ in wide_metrics("agent_day")]
if len(shop_names) < 8 or not set(agent_names) < set(shop_names):
    fail("wide columns: shop %s, agent %s" % (shop_names, agent_names))

HEADS = {
    "shop_day_metrics": "shop_id,day,metric,num,den,unanswered,b0,b1,b2,b3,b4,b5,b6,b7,final,revision,version",
    "agent_day_metrics": "shop_id,agent_id,day,metric,num,den,unanswered,b0,b1,b2,b3,b4,b5,b6,b7,final,revision,version",
    "violations": "shop_id,day,metric,conversation_id,buyer_id,agent_id,round_start,reply_at,wait_ms,messages,reason,final,version",
    "alerts": "shop_id,day,rule,value,final,version",
}
for t, w in want.items():
    got, head = tables[t]
    if not w:
        fail("%s: the run has no records for it (the test input is too small)" % t)
    if t in HEADS and ",".join(head) != HEADS[t]:
        fail("%s: columns %s" % (t, head))
    key = lambda x: json.dumps(x, sort_keys=True)
    g, e = sorted(map(key, got)), sorted(map(key, w))
    if g != e:
        extra = set(g) - set(e)
        missing = set(e) - set(g)
        fail("%s: %d rows, want %d; e.g. extra %s, missing %s" % (
            t, len(g), len(e), next(iter(extra), None), next(iter(missing), None)))
    print("%s: %d rows equal" % (t, len(g)))

for name, path in (("late", late_path), ("dead_letter", dead_path)):
    mine = read_bytes(os.path.join(d, name + "." + ext))
    theirs = open(path, "rb").read()
    if ext.startswith("jsonl") and sorted(mine.splitlines()) != sorted(theirs.splitlines()):
        fail("%s differs from --%s" % (name, name))
    if ext.startswith("csv"):
        n = len(list(csv.reader(io.StringIO(mine.decode(), newline="")))) - 1
        if n != len(theirs.splitlines()):
            fail("%s: %d rows, --%s has %d" % (name, n, name, len(theirs.splitlines())))
    print("%s: equal" % name)

man = json.load(open(os.path.join(d, "manifest.json")))
files = {o["path"]: o for o in man["outputs"]}
for t in list(want) + ["late", "dead_letter"]:
    p = os.path.join(d, t + "." + ext)
    o = files.get(p)
    if not o or o["flag"] != "--output-dir":
        fail("manifest: no --output-dir entry for %s: %s" % (p, sorted(files)))
    if o["sha256"] != hashlib.sha256(open(p, "rb").read()).hexdigest():
        fail("manifest: sha256 of %s" % p)
if man.get("time_zone") != "Asia/Shanghai":
    fail("manifest: time_zone %r" % man.get("time_zone"))
print("manifest: every file listed")
