#!/usr/bin/env python3
"""decode_crosscheck.py [SEED] [N] -- holds reference.py's ChatEvent decoder against the real
protobuf-c unpack: builds a tiny C harness (protoc-c + gcc + libprotobuf-c, in a temp dir)
from proto/replyrate/v1/chat_event.proto, feeds it N structured random byte strings
(valid/invalid tags, wire types 0..7, over-long and truncated varints, field 0, unknown
fields, truncations, random bytes) and compares accept/reject and every decoded field.
Exit status 0 when nothing differs."""
import os, random, subprocess, sys, tempfile
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference as R

HARNESS = r'''#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "replyrate/v1/chat_event.pb-c.h"
/* reads lines of hex; prints "X" for reject or the 10 fields */
int main(void){
  static char line[100000]; static uint8_t buf[50000];
  while (fgets(line, sizeof line, stdin)) {
    size_t n = strlen(line); while (n && (line[n-1]=='\n')) line[--n]=0;
    size_t len = n/2;
    for (size_t i=0;i<len;i++){ unsigned x; sscanf(line+2*i, "%2x", &x); buf[i]=x; }
    Replyrate__V1__ChatEvent *e = replyrate__v1__chat_event__unpack(NULL, len, buf);
    if (!e) { puts("X"); continue; }
    printf("%llu %llu %llu %llu %llu %lld %u %u %u %u\n",
      (unsigned long long)e->event_id,(unsigned long long)e->shop_id,(unsigned long long)e->conversation_id,
      (unsigned long long)e->buyer_id,(unsigned long long)e->agent_id,(long long)e->ts_ms,(unsigned)e->type,
      e->content,e->rating,e->flags);
    replyrate__v1__chat_event__free_unpacked(e, NULL);
  }
  return 0;
}
'''

def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    proto = os.path.join(HERE, "..", "..", "proto")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["protoc-c", "--c_out=" + tmp, "-I" + proto,
                        os.path.join(proto, "replyrate", "v1", "chat_event.proto")], check=True)
        with open(os.path.join(tmp, "harness.c"), "w") as f:
            f.write(HARNESS)
        exe = os.path.join(tmp, "harness")
        subprocess.run(["gcc", "-O1", "-I" + tmp, os.path.join(tmp, "harness.c"),
                        os.path.join(tmp, "replyrate", "v1", "chat_event.pb-c.c"), "-lprotobuf-c", "-o", exe],
                       check=True)
        bad = rej = 0
        for mode in (0, 1):
            cases = gen_cases(random.Random(seed * 2 + mode), count, mode)
            out = subprocess.run([exe], input="\n".join(c.hex() for c in cases) + "\n",
                                 capture_output=True, text=True, check=True).stdout.splitlines()
            assert len(out) == len(cases)
            for c, o in zip(cases, out):
                v = R.decode(c, 0, len(c))
                mine = "X" if v is None else " ".join(str(x) for x in v[1:])
                rej += mine == "X"
                if mine != o:
                    bad += 1
                    if bad <= 10:
                        print("MISMATCH", c.hex(), "protobuf-c:", o, "reference:", mine)
    print(f"cases {2 * count} rejected {rej} mismatches {bad}")
    return 1 if bad else 0


def gen_cases(rnd, count, mode):
    """mode 0: many invalid wire types; mode 1: mostly well-formed fields."""
    def varint(v, extra=0):
        out = bytearray()
        while True:
            b = v & 0x7f
            v >>= 7
            if v:
                out.append(b | 0x80)
            else:
                out.append(b)
                break
        if extra:                       # over-long encoding: pad with 0x80 .. 0x00
            out[-1] |= 0x80
            out += b"\x80" * (extra - 1) + b"\x00"
        return bytes(out)

    def field():
        fns = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 11, 15, 16, 100, 2**29 - 1, 2**28 + 3]
        if mode:
            fns += list(range(1, 11))
        fn = rnd.choice(fns)
        wt = rnd.choice([0, 0, 0, 0, 1, 2, 5, 3, 4, 6, 7] if mode == 0 else [0] * 30 + [1, 2, 5, 3])
        ext = rnd.choice(([0] * 8 if mode == 0 else [0] * 30) + [1, 2, 3, 4, 5])
        tag = varint((fn << 3) | wt, ext)
        if wt == 0:
            v = rnd.choice([0, 1, 5, 10, 11, 2**32 + 4, 2**63, 2**64 - 1, rnd.getrandbits(64), rnd.getrandbits(70)])
            body = varint(v, rnd.choice([0] * 6 + [1, 3, 5, 8]))
        elif wt == 1:
            body = bytes(rnd.getrandbits(8) for _ in range(8))
        elif wt == 5:
            body = bytes(rnd.getrandbits(8) for _ in range(4))
        elif wt == 2:
            ln = rnd.choice([0, 1, 3, 10])
            body = varint(ln, rnd.choice([0] * 5 + [1, 3, 4, 5])) + bytes(rnd.getrandbits(8) for _ in range(ln))
        else:
            body = b""
        return tag + body

    cases = []
    for _ in range(count):
        b = b"".join(field() for _ in range(rnd.randint(0, 8)))
        k = rnd.random()
        if k < 0.2 and b:
            b = b[:rnd.randrange(len(b))]
        elif k < 0.3:
            b = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 30)))
        elif k < 0.35 and b:
            i = rnd.randrange(len(b))
            b = b[:i] + bytes([rnd.getrandbits(8)]) + b[i + 1:]
        cases.append(b)
    return cases


if __name__ == "__main__":
    sys.exit(main())
