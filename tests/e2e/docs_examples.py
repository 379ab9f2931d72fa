#!/usr/bin/env python3
"""tests/e2e/docs_examples.py: the examples of docs/output.md come from a real
run, so they cannot drift from what replyrate writes.

    docs_examples.py BINARY [--doc docs/output.md]            check
    docs_examples.py BINARY [--doc docs/output.md] --update   rewrite the blocks

The runs below (RUNS) go over a small generated input in a scratch folder.
Each example block of the doc that is generated has a marker on the line
just before its opening fence:

    <!-- example: FILE: SEL, SEL, ...[; FILE: SEL, ...] -->

FILE is an output of the runs (a path inside the scratch folder); each SEL
picks one line of it, and the block holds the picked lines in the marker's
order, nothing else. A SEL is:

    header           the file's first line (a CSV header)
    line N           its Nth line (1 = the first)
    TYPE[K=V]...     the first record of that type ("type" in JSON Lines, the
                     `type` column in CSV) whose fields K equal V (JSON: the
                     value as JSON text, strings bare: [reason=late],
                     [event=null]; CSV: the cell, [event_id=] for an empty
                     one); TYPE * is any type.

Check mode fails when a marked block differs from its lines (printing both),
a marker names an unknown file or picks nothing, or a block that shows a
record ({"type":...) has no marker. --update writes the picked lines into
every marked block and leaves the rest of the doc byte for byte as it was.
"""
import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile

# A fixed small input: one generated day with late events, invalid copies and
# undecodable records (seed 1 makes a pdd_warning alert), judged at a fixed
# wall clock, so every run writes the same bytes.
GEN = ["gen", "--events", "4000", "--seed", "1", "--late-rate", "0.01", "--invalid-rate", "0.01",
       "--garbage-rate", "0.005", "--output", "in.pb"]
NOW = ["--now-ms", "1795500000000"]
RUNS = [
    ["run", "-q", "--input", "in.pb", *NOW, "--output", "results.jsonl", "--output", "results.csv",
     "--late", "late.jsonl", "--dead-letter", "dead.jsonl", "--no-manifest"],
    ["run", "-q", "--input", "in.pb", *NOW, "--output", "results.pb", "--late", "late.csv",
     "--dead-letter", "dead.csv", "--no-manifest"],
]

MARKER = re.compile(r"^<!-- example: (.*) -->\s*$")
SELECTOR = re.compile(r"^(header|line (\d+)|([a-z_]+|\*)((?:\[[^\]=]+=[^\]]*\])*))$")


def run_all(binary, work):
    for args in [GEN] + RUNS:
        p = subprocess.run([binary, *args], cwd=work, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        if p.returncode:
            sys.exit("docs_examples: replyrate %s failed (%d): %s" % (" ".join(args), p.returncode,
                                                                     p.stderr[-2000:]))


def records(path):
    """(line, fields) of each line: fields a dict of strings (JSON values as
    JSON text, strings bare) for matching."""
    lines = open(path, encoding="utf-8").read().split("\n")[:-1]
    if path.endswith(".csv"):
        header = next(csv.reader([lines[0]])) if lines else []
        rows = list(csv.reader(lines[1:]))
        return lines, header, [(l, dict(zip(header, r))) for l, r in zip(lines[1:], rows)]
    out = []
    for l in lines:
        j = json.loads(l)
        out.append((l, {k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
                        for k, v in j.items()}))
    return lines, None, out


def pick(work, spec):
    """The lines a marker's spec picks, or exit saying what is wrong."""
    picked = []
    for group in spec.split(";"):
        name, _, sels = group.partition(":")
        name = name.strip()
        path = os.path.join(work, name)
        if not name or not os.path.isfile(path):
            sys.exit("docs_examples: marker '%s': no output file '%s' (the runs write: %s)"
                     % (spec, name, ", ".join(sorted(os.listdir(work)))))
        lines, header, recs = records(path)
        for sel in (s.strip() for s in sels.split(",")):
            m = SELECTOR.match(sel)
            if not m:
                sys.exit("docs_examples: marker '%s': cannot read the selector '%s'" % (spec, sel))
            if sel == "header" or m.group(2):
                n = 1 if sel == "header" else int(m.group(2))
                if not 1 <= n <= len(lines):
                    sys.exit("docs_examples: marker '%s': %s has no line %d" % (spec, name, n))
                picked.append(lines[n - 1])
                continue
            want = m.group(3)
            conds = re.findall(r"\[([^\]=]+)=([^\]]*)\]", m.group(4) or "")
            for line, fields in recs:
                if (want == "*" or fields.get("type") == want) and all(
                        fields.get(k) == v for k, v in conds):
                    picked.append(line)
                    break
            else:
                sys.exit("docs_examples: marker '%s': no record of %s matches '%s'" % (spec, name, sel))
    return picked


def blocks(doc):
    """(marker spec or None, index of the opening fence, index of the closing
    fence) of each fenced block of the doc's lines."""
    out, i = [], 0
    while i < len(doc):
        if doc[i].startswith("```"):
            j = i + 1
            while j < len(doc) and not doc[j].startswith("```"):
                j += 1
            if j == len(doc):
                sys.exit("docs_examples: a fence opened at line %d is never closed" % (i + 1))
            m = MARKER.match(doc[i - 1]) if i else None
            out.append((m.group(1) if m else None, i, j))
            i = j + 1
        else:
            if MARKER.match(doc[i]) and not (i + 1 < len(doc) and doc[i + 1].startswith("```")):
                sys.exit("docs_examples: the marker at line %d is not just before a fence" % (i + 1))
            i += 1
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--doc", default=os.path.join(os.path.dirname(__file__), "../../docs/output.md"))
    ap.add_argument("--update", action="store_true", help="rewrite the marked blocks from the run")
    a = ap.parse_args()
    a.doc = os.path.normpath(a.doc)
    text = open(a.doc, encoding="utf-8").read()
    doc = text.split("\n")
    with tempfile.TemporaryDirectory() as work:
        run_all(os.path.abspath(a.binary), work)
        found = blocks(doc)
        bad, marked = [], 0
        for spec, i, j in reversed(found):  # from the end: replacing keeps earlier indices
            body = doc[i + 1:j]
            if spec is None:
                if any(l.startswith('{"type":') for l in body):
                    bad.append("line %d: a block showing records has no '<!-- example: ... -->' marker"
                               % (i + 1))
                continue
            marked += 1
            want = pick(work, spec)
            if body != want:
                if a.update:
                    doc[i + 1:j] = want
                else:
                    bad.append("line %d (%s): the doc shows\n  %s\nthe run writes\n  %s"
                               % (i + 1, spec, "\n  ".join(body), "\n  ".join(want)))
    if not marked:
        sys.exit("docs_examples: %s has no marked example" % a.doc)
    if a.update:
        new = "\n".join(doc)
        if new != text:
            open(a.doc, "w", encoding="utf-8").write(new)
            print("docs_examples: %s rewritten from the run" % a.doc)
        else:
            print("docs_examples: %s already shows the run" % a.doc)
        bad = [b for b in bad if "no '<!-- example" in b]
    bad.reverse()  # in the doc's order
    if bad:
        print("docs_examples: %s:\n%s\n(tests/e2e/docs_examples.py BINARY --update rewrites the marked "
              "blocks)" % (a.doc, "\n".join(bad)))
        sys.exit(1)
    if not a.update:
        print("docs_examples: the %d marked examples of %s are what the run writes" % (marked, a.doc))


if __name__ == "__main__":
    main()
