#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (every library instrumented) and runs
# each for SECONDS (default 60) on a scratch copy of its seed corpus.
#   tests/fuzz/run.sh [SECONDS]
# fuzz_decode: our decoder against protobuf-c's unpack, byte for byte.
# fuzz_engine: event scripts through the engine; verdicts add up, no day twice.
# fuzz_source: streams with breaks and damaged zstd frames, with and without
#   resync: no crash, every byte in a record or counted unread.
# fuzz_record_json: JSON result records read back (export of JSON topics):
#   no overrun, and what reads writes back to JSON that reads the same.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
command -v clang >/dev/null || { echo "fuzz: clang is not installed (deploy/setup.sh --deps installs it)" >&2; exit 1; }
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DRR_FUZZ=ON -DRR_TESTS=OFF -DRR_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_decode fuzz_engine fuzz_source \
  fuzz_record_json >/dev/null
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
failed=0; passed=0
for t in decode engine source record_json; do
  mkdir -p "$work/$t"
  [ -d "tests/fuzz/corpus/$t" ] && cp tests/fuzz/corpus/$t/* "$work/$t/" 2>/dev/null || true
  if (cd "$work" && "$OLDPWD/build-fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 "$work/$t" \
        >"$work/$t.log" 2>&1); then
    passed=$((passed + 1)); echo "fuzz_$t: $(grep -o 'Done [0-9]* runs' "$work/$t.log")"
  else
    failed=$((failed + 1)); echo "fuzz_$t FAILED:"; tail -40 "$work/$t.log"
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
