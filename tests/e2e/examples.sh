#!/usr/bin/env bash
# The SPEC's worked examples (../shared/examples): every case must pass.
set -euo pipefail
bin=$1
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
check="$src/../shared/examples/check"
if [ ! -x "$check" ]; then
  echo "examples: $check not found (shared/ must sit beside the repository)" >&2
  exit 1
fi
python3 "$check" "$bin"
