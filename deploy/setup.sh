#!/usr/bin/env bash
# Installs what replyrate needs on Debian 12 (root or sudo) and builds it into build/.
# Idempotent: packages already present are not reinstalled; the build is incremental.
#   deploy/setup.sh            dependencies + release build
#   deploy/setup.sh --deps     dependencies only, including the test tools (valgrind, clang,
#                              clang-format, cppcheck, Java and Maven for deploy/kafka/broker.sh,
#                              systemd-analyze for the units in deploy/systemd, promtool
#                              for the metrics endpoint's test, groff for the man page)
set -euo pipefail
cd "$(dirname "$0")/.."

# python3 also writes the man page at build time (deploy/man/mkman.py)
PKGS=(build-essential cmake pkg-config python3 zstd tzdata
      librdkafka-dev libprotobuf-c-dev protobuf-c-compiler libzstd-dev
      libcriterion-dev libconfig-dev libssl-dev libmicrohttpd-dev)
# Only for the test suite (sanitizers, valgrind, fuzzers, the lints of tests/lint,
# and Java + Maven for the real Kafka broker of the integration tests,
# deploy/kafka): installed by --deps.
TEST_PKGS=(valgrind clang libclang-rt-14-dev clang-format cppcheck default-jre-headless maven
           systemd prometheus groff-base)

want=("${PKGS[@]}")
[ "${1:-}" = "--deps" ] && want+=("${TEST_PKGS[@]}")
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ "${1:-}" = "--deps" ] && exit 0

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "setup: built build/replyrate" >&2
