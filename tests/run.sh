#!/usr/bin/env bash
# The test suite, as CI runs it. From the repository root:
#   tests/run.sh              build (warnings are errors) and run every test with ctest:
#                             unit tests, the SPEC examples, whole-program and differential tests,
#                             and integration tests against a real Kafka broker that ctest starts
#                             and stops (deploy/kafka/broker.sh, port 19192)
#   tests/run.sh --sanitize   the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer
#   tests/run.sh --valgrind   the engine/checkpoint/output/source/config/readahead suites and one run under
#                             valgrind memcheck, and two-input runs (1 and 2 threads) under helgrind
#   tests/run.sh --fuzz       the libFuzzer targets (clang), 60 s each (RR_FUZZ_SECONDS)
#   tests/run.sh --all        all four, one after the other
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

suite() { # build dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DRR_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
  ctest --test-dir "$dir" --output-on-failure -j"$jobs"
}

plain() { suite build -DCMAKE_BUILD_TYPE=Release; }

sanitize() {
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    RR_E2E_QUICK=1 suite build-asan -DCMAKE_BUILD_TYPE=Debug -DRR_SANITIZE=address,undefined
}

valgrind_suite() {
  command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
  cmake -S . -B build-vg -DCMAKE_BUILD_TYPE=Debug -DRR_WERROR=ON >/dev/null
  cmake --build build-vg -j"$jobs" >/dev/null
  local vg=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
  local failed=0 passed=0
  # Criterion runs each test in a child process: valgrind must follow children.
  # The decoder, tz and generator suites are CPU-heavy property tests (hundreds of
  # thousands of cases); they run under ASan+UBSan instead, which is 20x cheaper.
  for name in test_engine test_checkpoint test_output test_source test_config test_alert test_readahead; do
    local t=build-vg/$name
    if "${vg[@]}" --trace-children=yes "$t" --jobs 1 >/dev/null 2>build-vg/vg.log; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1)); echo "valgrind: $t failed"; tail -30 build-vg/vg.log
    fi
  done
  local tmp; tmp=$(mktemp -d)
  build-vg/replyrate gen --events 200000 --seed 7 --duplicate-rate 0.01 --disorder-rate 0.02 \
    --late-rate 0.005 --invalid-rate 0.005 --output "$tmp/in.pb.zst" 2>/dev/null
  if "${vg[@]}" build-vg/replyrate run --input "$tmp/in.pb.zst" --output "$tmp/out.jsonl" \
       --late "$tmp/late.jsonl" --dead-letter "$tmp/dead.jsonl" -q 2>build-vg/vg.log; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); echo "valgrind: replyrate run failed"; tail -30 build-vg/vg.log
  fi
  # The threads under helgrind, two partitions (one of them zstd): the reader
  # thread ahead of one engine (io/readahead.c), then two shards (pipeline/drive.c).
  build-vg/replyrate gen --events 20000 --seed 8 --invalid-rate 0.01 --late-rate 0.01 \
    --output "$tmp/b.pb" 2>/dev/null
  for threads in 1 2; do
    if valgrind --tool=helgrind --quiet --error-exitcode=99 \
         --suppressions=tests/valgrind/replyrate-helgrind.supp build-vg/replyrate run --threads $threads \
         --input "$tmp/in.pb.zst" --input "$tmp/b.pb" --output "$tmp/out2.jsonl" \
         --late "$tmp/late2.jsonl" --dead-letter "$tmp/dead2.jsonl" -q 2>build-vg/vg.log; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1)); echo "helgrind: replyrate run --threads $threads failed"; tail -30 build-vg/vg.log
    fi
  done
  rm -rf "$tmp"
  echo "valgrind: $passed passed, $failed failed"
  [ "$failed" = 0 ]
}

case "${1:-}" in
  "") plain ;;
  --sanitize) sanitize ;;
  --valgrind) valgrind_suite ;;
  --fuzz) tests/fuzz/run.sh "${RR_FUZZ_SECONDS:-60}" ;;
  --all) plain; sanitize; valgrind_suite; tests/fuzz/run.sh "${RR_FUZZ_SECONDS:-60}" ;;
  *) echo "usage: tests/run.sh [--sanitize|--valgrind|--fuzz|--all]" >&2; exit 2 ;;
esac
