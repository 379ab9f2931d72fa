#!/usr/bin/env bash
# tests/lint/layers.sh: fails when an #include in src/ points up a layer or
# into another folder's private header, when a header's include guard does
# not name its path (src/io/filesink.h: RR_IO_FILESINK_H), when code below
# cli/ and ops/ prints (stdio to stderr/stdout, perror): it returns errstr or
# logs through ops/log.h instead, or when cli/ writes to stderr itself
# (stderr, perror, STDERR_FILENO): every line there goes through ops/log.h.
#
# Each folder of src/ is a layer and may include only its own headers and
# those of the folders listed for it below (the same table as CMakeLists.txt's
# libraries). A header named *_int.h is private to its folder. The public
# headers under include/replyrate/ belong to a layer too: event.h and config.h
# to metrics (the job's settings and the event schema), engine.h to engine.
# Usage: tests/lint/layers.sh [SOURCE_DIR]
set -euo pipefail
root=${1:-${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}}
cd "$root"

declare -A may=(
  [base]=""
  [ops]="base"
  [metrics]="base"
  [engine]="metrics base"
  [codec]="engine metrics base"
  [io]="codec engine metrics ops base"
  [gen]="engine metrics base"
  [pipeline]="io codec engine metrics ops base"
  [report]="io codec engine metrics ops base"
  [cli]="pipeline gen report io codec engine metrics ops base"
)
# the layer each public header belongs to
declare -A public=([event.h]=metrics [config.h]=metrics [engine.h]=engine)

bad=0
complain() { echo "$1: $2" >&2; bad=$((bad + 1)); }

for dir in src/*/; do
  layer=$(basename "$dir")
  [[ -v may[$layer] ]] || { complain "$dir" "a folder no layer is declared for (tests/lint/layers.sh, CMakeLists.txt)"; continue; }
  allowed=" $layer ${may[$layer]} "
  while IFS=: read -r file line inc; do
    inc=${inc#*\"}; inc=${inc%\"*}
    case $inc in
      replyrate/v1/*) target=io ;;  # generated protobuf-c code: codec and up
      replyrate/*)
        h=${inc#replyrate/}
        target=${public[$h]:-}
        [[ -n $target ]] || { complain "$file:$line" "includes $inc, a public header no layer owns"; continue; } ;;
      */*) target=${inc%%/*} ;;
      *) complain "$file:$line" "includes \"$inc\" without its folder (write \"$layer/$inc\")"; continue ;;
    esac
    if [[ $inc == replyrate/v1/* ]]; then
      [[ " codec io pipeline cli " == *" $layer "* ]] ||
        complain "$file:$line" "$layer includes generated protobuf code ($inc): only codec and above may"
      continue
    fi
    if [[ $allowed != *" $target "* ]]; then
      complain "$file:$line" "$layer may not include $inc ($target is not beneath $layer)"
    elif [[ $target != "$layer" && $inc == *_int.h ]]; then
      complain "$file:$line" "$inc is private to $target/"
    fi
  done < <(grep -Hn '^#[[:space:]]*include[[:space:]]*"' "$dir"*.[ch] || true)
done

# include guards name the header's path, so a moved header cannot keep the
# guard of another place (two headers with one guard hide each other)
for h in src/*/*.h; do
  want=RR_$(echo "${h#src/}" | tr 'a-z/.' 'A-Z__')
  guard=$(grep -m1 -oE '^#ifndef RR_[A-Z0-9_]+' "$h" | cut -d' ' -f2 || true)
  [[ $guard == "$want" ]] || complain "$h" "include guard ${guard:-missing}, expected $want"
done

# nothing prints below cli/ and ops/ (read with comments and strings blanked,
# so a comment naming stdout is not a print)
while IFS= read -r where; do
  complain "$where" "prints (only cli/ and ops/ may; return errstr or use ops/log.h)"
done < <(python3 - src/{base,metrics,engine,codec,io,gen,pipeline,report}/*.[ch] <<'PY'
import re, sys
call = re.compile(r'(?<![\w.>])(printf|fprintf|vfprintf|puts|fputs|putchar|perror)\s*\(|'
                  r'(?<![\w.>])(stderr|stdout)(?!\w)')
blank = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
for path in sys.argv[1:]:
    text = blank.sub(lambda m: re.sub(r'[^\n]', ' ', m.group(0)), open(path).read())
    for n, line in enumerate(text.split('\n'), 1):
        if call.search(line):
            print(f"{path}:{n}")
PY
)

# stderr has one writer, ops/log.h: cli/ prints results and help on stdout
# only (a stray fprintf(stderr) is a line no log shipper can parse)
while IFS= read -r where; do
  complain "$where" "writes to stderr (only ops/ may; use ops/log.h)"
done < <(python3 - src/cli/*.[ch] <<'PY'
import re, sys
call = re.compile(r'(?<![\w.>])(perror|stderr|STDERR_FILENO)(?!\w)')
blank = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
for path in sys.argv[1:]:
    text = blank.sub(lambda m: re.sub(r'[^\n]', ' ', m.group(0)), open(path).read())
    for n, line in enumerate(text.split('\n'), 1):
        if call.search(line):
            print(f"{path}:{n}")
PY
)

if ((bad)); then
  echo "tests/lint/layers.sh: $bad finding(s) against the house's rules" >&2
  exit 1
fi
echo "layers: #includes point down, guards name their paths, nothing prints below cli/ and ops/, stderr only through ops/log.h"
