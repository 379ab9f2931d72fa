#!/usr/bin/env bash
# tests/lint/format.sh: fails when a C file in src/, include/, tests/ or bench/
# is not laid out as .clang-format says (clang-format 14, Debian 12's).
# Fix with: clang-format -i FILE...   (the message lists the files)
# Exit 77 (skipped) when clang-format is missing, except under CI=true.
# Usage: tests/lint/format.sh [SOURCE_DIR]
set -euo pipefail
root=${1:-${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}}
cd "$root"
if ! command -v clang-format >/dev/null; then
  echo "format: clang-format is not installed (deploy/setup.sh --deps installs it)" >&2
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi
mapfile -t files < <(find src include tests bench -name '*.[ch]' -not -path '*/corpus/*' -not -path '*/.venv/*' | sort)
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  echo "format: ${#bad[@]} file(s) differ from .clang-format: ${bad[*]}" >&2
  echo "format: fix with: clang-format -i ${bad[*]}" >&2
  exit 1
fi
echo "format: ${#files[@]} files laid out as .clang-format says ($(clang-format --version | head -n1))"
