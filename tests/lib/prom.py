#!/usr/bin/env python3
"""tests/lib/prom.py: read the Prometheus text format replyrate serves (tests only).

  prom.py sum FILE METRIC [LABEL=VALUE ...]   the sum of METRIC's samples whose
                                              labels include every LABEL=VALUE
                                              (0 when none; FILE '-' is stdin)
  prom.py summary FILE LOG                    check FILE against the summary line in
                                              LOG: events by outcome, records published
                                              (exit 1 saying what differs)
"""
import json
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(path):
    text = sys.stdin.read() if path == '-' else open(path).read()
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise SystemExit(f'not a sample line: {line!r}')
        labels = dict(LABEL.findall(m.group(2) or ''))
        yield m.group(1), labels, float(m.group(3))


def total(path, metric, want):
    return sum(v for name, labels, v in samples(path)
               if name == metric and all(labels.get(k) == x for k, x in want.items()))


def summary_line(log):
    lines = [l for l in open(log) if '"type":"summary"' in l]
    if not lines:
        raise SystemExit(f'{log}: no summary line')
    line = lines[-1]
    return json.loads(line[line.index('{'):])


def main():
    cmd = sys.argv[1]
    if cmd == 'sum':
        want = dict(a.split('=', 1) for a in sys.argv[4:])
        v = total(sys.argv[2], sys.argv[3], want)
        print(int(v) if v == int(v) else v)
    elif cmd == 'summary':
        s = summary_line(sys.argv[3])
        bad = []
        for outcome in ('applied', 'duplicate', 'late', 'invalid'):
            got = total(sys.argv[2], 'replyrate_events_total', {'outcome': outcome})
            if got != s[outcome]:
                bad.append(f'{outcome}: metrics {int(got)}, summary {s[outcome]}')
        if bad:
            raise SystemExit('; '.join(bad))
    else:
        raise SystemExit(__doc__)


main()
