#!/usr/bin/env python3
"""drop_conversations.py IN.pb RESULTS.jsonl N OUT.pb: a corrected night for the loader
tests. Copies the delimited ChatEvent stream IN.pb to OUT.pb without any event of N
conversations that have a violation in RESULTS.jsonl (the run of IN.pb), taken from as
many (shop, day)s as there are, so a rerun on OUT.pb changes those days and loses those
violations. Records that do not decode are copied as they are. Prints the dropped
conversation ids, one a line. Stdlib only.
"""
import json
import sys


def varint(buf, i):
    """(value, next index) of the varint at buf[i]; ValueError when it runs out."""
    v = shift = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("varint")
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return v, i


def conversation_of(msg):
    """ChatEvent.conversation_id (field 3, varint) of one record, or None."""
    i = 0
    try:
        while i < len(msg):
            tag, i = varint(msg, i)
            field, wire = tag >> 3, tag & 7
            if wire == 0:
                v, i = varint(msg, i)
                if field == 3:
                    return v
            elif wire == 1:
                i += 8
            elif wire == 2:
                n, i = varint(msg, i)
                i += n
            elif wire == 5:
                i += 4
            else:
                return None
    except ValueError:
        return None
    return None


def main(src, results, n, dst):
    by_day = {}
    with open(results, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["type"] == "violation":
                by_day.setdefault((r["shop_id"], r["day"]), []).append(r["conversation_id"])
    drop = set()
    days = sorted(by_day)
    while len(drop) < n and any(by_day.values()):
        for d in days:  # one from each (shop, day) in turn
            if by_day[d] and len(drop) < n:
                drop.add(by_day[d].pop(0))
    data = open(src, "rb").read()
    out = bytearray()
    i = 0
    while i < len(data):
        try:
            n_bytes, j = varint(data, i)
        except ValueError:
            out += data[i:]
            break
        rec = data[j:j + n_bytes]
        if conversation_of(rec) not in drop:
            out += data[i:j + n_bytes]
        i = j + n_bytes
    with open(dst, "wb") as f:
        f.write(out)
    for c in sorted(drop):
        print(c)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: drop_conversations.py IN.pb RESULTS.jsonl N OUT.pb")
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
