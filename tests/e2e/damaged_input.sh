#!/usr/bin/env bash
# Unread input is never silent (io/source.h, docs/output.md "Damaged input").
# A generated day with a length prefix overwritten at a record boundary, and
# a .pb.zst of ours with bytes overwritten in the middle of a frame: the run
# exits 3 naming the file and the offset, the summary counts the bytes
# unread; --allow-incomplete exits 0 with the same count; --resync exits 0,
# dead-letters the skipped bytes whole, and gives exactly the records of a
# run on the same day with the damaged record (the damaged frame's records)
# removed, the bytes cut out by an independent framing and zstd-frame
# reader below (Python, the zstd command).
set -euo pipefail
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
events=300000 # three zstd frames of ours at least
command -v zstd >/dev/null || fail "the zstd command is needed"

"$bin" gen --events $events --seed 5 --output "$tmp/day.pb" 2>/dev/null
"$bin" gen --events $events --seed 5 --output "$tmp/day.pb.zst" 2>/dev/null
"$bin" gen --events $events --seed 5 --output "$tmp/a.pb" --output "$tmp/b.pb" 2>/dev/null

# The damage, and what a run that never saw the damaged bytes reads.
#   tool.py prefix IN OUT CUT  -> overwrite record len/2's prefix; CUT: IN without it
#   tool.py frame IN OUT CUT   -> overwrite 8 bytes mid frame n/2; CUT: the
#                                 other frames' content (zstd -dc, frame by frame)
# Prints: offset, bytes to the end, bytes to resync.
cat >"$tmp/tool.py" <<'PY'
import subprocess, sys
def records(d):
    p, out = 0, []
    while p < len(d):
        out.append(p)
        n = s = 0
        while True:
            c = d[p]; p += 1; n |= (c & 0x7f) << s; s += 7
            if c < 0x80: break
        p += n
    assert p == len(d)
    return out
def frames(z):
    p, out = 0, []
    while p < len(z):
        assert z[p:p+4] == b"\x28\xb5\x2f\xfd", "not a zstd frame at %d" % p
        out.append(p)
        fhd = z[p+4]; q = p + 5
        single = fhd >> 5 & 1
        q += (0 if single else 1) + [0, 1, 2, 4][fhd & 3]
        q += [0 if not single else 1, 2, 4, 8][fhd >> 6]
        while True:
            h = z[q] | z[q+1] << 8 | z[q+2] << 16; q += 3
            q += 1 if (h >> 1 & 3) == 1 else h >> 3
            if h & 1: break
        q += 4 if fhd & 4 else 0
        p = q
    return out + [len(z)]
mode, src, dst, cut = sys.argv[1:5]
d = bytearray(open(src, "rb").read())
if mode == "prefix":
    r = records(d) + [len(d)]
    k = len(r) // 2
    at, nxt = r[k], r[k + 1]
    open(cut, "wb").write(d[:at] + d[nxt:])
    d[at:at+4] = b"\xff\xff\xff\x7f"
else:
    f = frames(d)
    assert len(f) > 3, "too few frames: %d" % (len(f) - 1)
    k = (len(f) - 1) // 2
    at, nxt = f[k], f[k + 1]
    with open(cut, "wb") as o:
        for i in range(len(f) - 1):
            if i != k:
                o.write(subprocess.run(["zstd", "-dcq"], input=bytes(d[f[i]:f[i+1]]),
                                       check=True, stdout=subprocess.PIPE).stdout)
    mid = (at + nxt) // 2
    d[mid:mid+8] = b"\x55" * 8
open(dst, "wb").write(d)
print(at, len(d) - at, nxt - at)
PY
field() { grep -o "\"$1\":[0-9]*" "$2" | tail -1 | cut -d: -f2; } # a summary's, JSON logs
run() { # expected-status log args...
  local want=$1 log=$2; shift 2
  set +e; "$bin" --log-format json run -q "$@" 2>"$log"; local got=$?; set -e
  [ "$got" = "$want" ] || fail "run $* -> exit $got, want $want: $(cat "$log")"
}
same_records() { # two .jsonl outputs hold the same records (in any order)
  cmp -s <(sort "$1") <(sort "$2") || fail "$1 and $2 differ: $(diff <(sort "$1") <(sort "$2") | head -5)"
}

# ---- a length prefix overwritten at a record boundary: plain, and zstd of the same bytes
read -r at unread skip < <(python3 "$tmp/tool.py" prefix "$tmp/day.pb" "$tmp/bad.pb" "$tmp/cut.pb")
zstd -q -3 --no-check -c "$tmp/bad.pb" >"$tmp/bad.pb.zst" # one frame, another writer's
run 0 "$tmp/cut.log" --input "$tmp/cut.pb" --output "$tmp/cut.jsonl"
for f in bad.pb bad.pb.zst; do
  run 3 "$tmp/$f.log" --input "$tmp/$f" --output "$tmp/o.jsonl"
  grep -q "$tmp/$f: the framing breaks at byte $at (length over 64 MiB); records decode again at byte $((at + skip)); the $unread bytes from the break to the end are unread" "$tmp/$f.log" \
    || fail "$f: the message does not name the break: $(cat "$tmp/$f.log")"
  [ "$(field unread_bytes "$tmp/$f.log")" = "$unread" ] || fail "$f: unread_bytes: $(tail -1 "$tmp/$f.log")"
  run 0 "$tmp/$f.allow.log" --allow-incomplete --input "$tmp/$f" --output "$tmp/o.jsonl"
  [ "$(field unread_bytes "$tmp/$f.allow.log")" = "$unread" ] || fail "$f: --allow-incomplete: unread_bytes"
  # published, but no day as final: its input is known to be incomplete
  ! grep -qE '"type":"(shop|agent)_day".*"final":true' "$tmp/o.jsonl" ||
    fail "$f: --allow-incomplete published a day as final"
  grep -q '"type":"shop_day".*"final":false' "$tmp/o.jsonl" || fail "$f: --allow-incomplete: no shop_day"
  python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); sys.exit(m["complete"] is not False)' \
    "$tmp/o.jsonl.manifest.json" || fail "$f: --allow-incomplete: the manifest says complete"
  run 0 "$tmp/$f.rs.log" --resync --input "$tmp/$f" --output "$tmp/rs.jsonl" --dead-letter "$tmp/rs.dead.jsonl"
  same_records "$tmp/rs.jsonl" "$tmp/cut.jsonl"
  for k in applied duplicate late; do
    [ "$(field $k "$tmp/$f.rs.log")" = "$(field $k "$tmp/cut.log")" ] || fail "$f --resync: $k differs"
  done
  [ "$(field invalid "$tmp/$f.rs.log")" = $(( $(field invalid "$tmp/cut.log") + 1 )) ] || fail "$f --resync: invalid"
  [ "$(field skipped_bytes "$tmp/$f.rs.log")" = "$skip" ] || fail "$f --resync: skipped_bytes"
  [ "$(field unread_bytes "$tmp/$f.rs.log")" = 0 ] || fail "$f --resync: unread_bytes"
  python3 - "$tmp/rs.dead.jsonl" "$tmp/bad.pb" "$at" "$skip" <<'PY' || fail "$f --resync: the dead letter"
import json, sys
dead = [json.loads(l) for l in open(sys.argv[1])]
data, at, skip = open(sys.argv[2], "rb").read(), int(sys.argv[3]), int(sys.argv[4])
assert len(dead) == 1 and dead[0]["reason"] == "record_too_large" and dead[0]["offset"] == at, dead
assert bytes.fromhex(dead[0]["raw_hex"]) == data[at:at + skip], "not the skipped bytes, whole"
PY
done

# ---- --resync is for files
set +e; "$bin" run --resync --brokers 127.0.0.1:1 --topic t --until-end --output "$tmp/o.jsonl" \
  2>"$tmp/usage.log"; got=$?; set -e
[ "$got" = 2 ] && grep -q -- "--resync is for --input files" "$tmp/usage.log" \
  || fail "--resync with a topic -> exit $got: $(cat "$tmp/usage.log")"

# ---- load says the same, on librdkafka's in-process mock cluster
set +e; "$bin" --log-format json load --input "$tmp/bad.pb" --brokers 127.0.0.1:1 --topic t -X test.mock.num.brokers=1 \
  2>"$tmp/load.log"; got=$?; set -e
[ "$got" = 3 ] || fail "load -> exit $got, want 3: $(cat "$tmp/load.log")"
grep -q "$tmp/bad.pb: the framing breaks at byte" "$tmp/load.log" || fail "load: $(cat "$tmp/load.log")"
[ "$(field unread_bytes "$tmp/load.log")" -gt 0 ] || fail "load: unread_bytes"

# ---- the same in one of two shards
python3 "$tmp/tool.py" prefix "$tmp/b.pb" "$tmp/bad_b.pb" "$tmp/cut_b.pb" >/dev/null
run 0 "$tmp/cut2.log" --threads 2 --input "$tmp/a.pb" --input "$tmp/cut_b.pb" --output "$tmp/cut2.jsonl"
run 3 "$tmp/sh.log" --threads 2 --input "$tmp/a.pb" --input "$tmp/bad_b.pb" --output "$tmp/o.jsonl"
grep -q "$tmp/bad_b.pb: the framing breaks at byte" "$tmp/sh.log" || fail "shards: $(cat "$tmp/sh.log")"
run 0 "$tmp/sh.rs.log" --resync --threads 2 --input "$tmp/a.pb" --input "$tmp/bad_b.pb" --output "$tmp/sh.jsonl"
same_records "$tmp/sh.jsonl" "$tmp/cut2.jsonl"

# ---- bytes overwritten in the middle of a zstd frame of ours
read -r at unread skip < <(python3 "$tmp/tool.py" frame "$tmp/day.pb.zst" "$tmp/badz.pb.zst" "$tmp/cutz.pb")
run 0 "$tmp/cutz.log" --input "$tmp/cutz.pb" --output "$tmp/cutz.jsonl"
[ "$(field input "$tmp/cutz.log")" -lt "$events" ] || fail "the damaged frame held no records"
run 3 "$tmp/z.log" --input "$tmp/badz.pb.zst" --output "$tmp/o.jsonl"
grep -q "$tmp/badz.pb.zst: damaged zstd data (.*) in the frame at compressed byte $at; the $unread compressed bytes from the frame to the end are unread" "$tmp/z.log" \
  || fail "zstd: the message does not name the frame: $(cat "$tmp/z.log")"
[ "$(field unread_bytes "$tmp/z.log")" = "$unread" ] || fail "zstd: unread_bytes: $(tail -1 "$tmp/z.log")"
run 0 "$tmp/z.rs.log" --resync --input "$tmp/badz.pb.zst" --output "$tmp/zrs.jsonl" --dead-letter "$tmp/zrs.dead.jsonl"
same_records "$tmp/zrs.jsonl" "$tmp/cutz.jsonl"
[ "$(field applied "$tmp/z.rs.log")" = "$(field applied "$tmp/cutz.log")" ] || fail "zstd --resync: applied"
[ "$(field invalid "$tmp/z.rs.log")" = 1 ] || fail "zstd --resync: one dead letter for the frame"
[ "$(field skipped_bytes "$tmp/z.rs.log")" = "$skip" ] || fail "zstd --resync: skipped_bytes"
grep -q '"reason":"damaged_zstd_frame"' "$tmp/zrs.dead.jsonl" || fail "zstd --resync: dead letter"
echo "damaged input: ok (prefix at byte $at of a $events-event day; zstd frame of $skip bytes)"
