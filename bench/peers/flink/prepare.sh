#!/usr/bin/env bash
# Untimed: build the Flink job (Maven, Java 17) into target/ before the timed runs.
#   bench/peers/flink/prepare.sh INPUT OUTDIR   (both unused: the job reads INPUT itself)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
command -v mvn >/dev/null || { echo "flink: Maven (mvn) is not installed" >&2; exit 1; }
command -v java >/dev/null || { echo "flink: Java 17 is not installed" >&2; exit 1; }
(cd "$here" && mvn -q -B -Dstyle.color=never package)
touch "$here/target/.built"
