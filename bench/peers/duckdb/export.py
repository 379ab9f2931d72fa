#!/usr/bin/env python3
"""Export a delimited ChatEvent stream (proto/replyrate/v1/chat_event.proto) to Parquet.

    export.py INPUT.pb OUTPUT.parquet

INPUT is replyrate's file form: each record preceded by its length as a varint,
plain (not zstd). One row per record, in file (arrival) order, with `seq`, the
record's position, so SQL can take "first in arrival order" decisions, and
`decodes` (0 for a record that does not decode: the SQL counts it invalid).
The decoder is the protobuf wire format reduced to what ChatEvent uses
(varints; unknown fields skipped as protobuf does). A broken length prefix, or
one running past the end of the file, makes the bytes from there one last
record that does not decode. Export speed is not part of the benchmark.
"""
import array
import sys

import pyarrow as pa
import pyarrow.parquet as pq

# field number -> column; all ChatEvent fields are varints.
FIELDS = {1: "event_id", 2: "shop_id", 3: "conversation_id", 4: "buyer_id",
          5: "agent_id", 6: "ts_ms", 7: "type", 8: "content", 9: "rating", 10: "flags"}
TYPES = {"seq": pa.int64(), "decodes": pa.uint8(), "event_id": pa.uint64(), "shop_id": pa.uint64(),
         "conversation_id": pa.uint64(), "buyer_id": pa.uint64(), "agent_id": pa.uint64(),
         "ts_ms": pa.int64(), "type": pa.uint8(), "content": pa.uint32(),
         "rating": pa.uint32(), "flags": pa.uint32()}
CODES = {"seq": "q", "decodes": "B", "ts_ms": "q", "type": "B", "content": "I", "rating": "I", "flags": "I"}
assert array.array("I").itemsize == 4 and array.array("Q").itemsize == 8
CHUNK = 1 << 20


class Bad(Exception):
    pass


def varint(buf, pos, end):
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise Bad("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise Bad("varint too long")


def new_columns():
    return {name: array.array(CODES.get(name, "Q")) for name in TYPES}


def flush(writer, cols, n):
    arrays = [pa.Array.from_buffers(TYPES[name], n, [None, pa.py_buffer(cols[name])])
              for name in TYPES]
    writer.write_table(pa.Table.from_arrays(arrays, names=list(TYPES)))


def decode(buf, pos, end):
    """One record's fields by number (0 where absent), or None when it does not
    decode: a known field of another wire type than varint, field number 0, a
    group or reserved wire type, a varint too long or cut short."""
    row = [0] * 11
    try:
        while pos < end:
            key, pos = varint(buf, pos, end)
            field, wire = key >> 3, key & 7
            if field == 0:
                return None
            if wire == 0:
                value, pos = varint(buf, pos, end)
                if field <= 10:
                    row[field] = value & 0xFFFFFFFFFFFFFFFF
            elif field <= 10:
                return None
            elif wire == 2:
                skip, pos = varint(buf, pos, end)
                pos += skip
            elif wire == 1:
                pos += 8
            elif wire == 5:
                pos += 4
            else:
                return None
    except Bad:
        return None
    return row if pos == end else None


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: export.py INPUT.pb OUTPUT.parquet")
    with open(sys.argv[1], "rb") as f:
        buf = memoryview(f.read())
    schema = pa.schema([(name, t) for name, t in TYPES.items()])
    writer = pq.ParquetWriter(sys.argv[2], schema, compression="zstd")
    cols = new_columns()
    n = 0
    seq = 0
    pos = 0
    size = len(buf)
    names = [FIELDS.get(i) for i in range(11)]
    while pos < size:
        try:
            length, start = varint(buf, pos, size)
            framed = start + length <= size
        except Bad:
            framed = False
        if framed:
            pos = start + length
            row = decode(buf, start, pos)
        else:
            # a broken framing: the bytes from here are one last invalid record
            pos = size
            row = None
        cols["seq"].append(seq)
        cols["decodes"].append(row is not None)
        for i in range(1, 11):
            v = row[i] if row is not None else 0
            if i == 6 and v >= 1 << 63:  # int64 as two's complement
                v -= 1 << 64
            elif i >= 8 and v >= 1 << 32:  # uint32 fields keep their low 32 bits
                v &= 0xFFFFFFFF
            elif i == 7:
                v = v if v < 256 else 255
            cols[names[i]].append(v)
        seq += 1
        n += 1
        if n == CHUNK:
            flush(writer, cols, n)
            cols = new_columns()
            n = 0
    if n:
        flush(writer, cols, n)
    writer.close()
    print(f"export: {seq} events to {sys.argv[2]}", file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except Bad as e:
        sys.exit(f"export: {sys.argv[1]}: {e}")
