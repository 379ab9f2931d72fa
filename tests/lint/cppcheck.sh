#!/usr/bin/env bash
# tests/lint/cppcheck.sh: cppcheck's warning, performance and portability
# checks over src/, with the build's own flags (compile_commands.json of
# BUILD_DIR). Any finding fails; a finding judged wrong is silenced where it
# stands with a `// cppcheck-suppress ID` comment saying why.
# Exit 77 (skipped) when cppcheck is missing, except under CI=true.
# Usage: tests/lint/cppcheck.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: tests/lint/cppcheck.sh BUILD_DIR}" && pwd)
root=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! command -v cppcheck >/dev/null; then
  echo "cppcheck: not installed (deploy/setup.sh --deps installs it)" >&2
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi
[ -f "$build/compile_commands.json" ] || { echo "cppcheck: no $build/compile_commands.json" >&2; exit 1; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
# only the project's own files: not the generated protobuf code, tests or bench
python3 - "$build/compile_commands.json" "$root" > "$out/cc.json" <<'PY'
import json, sys
cc = json.load(open(sys.argv[1])); root = sys.argv[2].rstrip('/') + '/src/'
json.dump([c for c in cc if c['file'].startswith(root)], sys.stdout)
PY
cppcheck --project="$out/cc.json" --enable=warning,performance,portability --std=c11 \
  --inline-suppr -q -j"$(nproc)" --cppcheck-build-dir="$out" \
  --suppress=missingIncludeSystem --suppress='*:*.pb-c.h' --suppress=preprocessorErrorDirective \
  --template='{file}:{line}: {severity} ({id}): {message}' >"$out/log" 2>"$out/findings" || {
  cat "$out/log" "$out/findings" >&2; echo "cppcheck: failed to run" >&2; exit 1; }
if [ -s "$out/findings" ]; then
  cat "$out/findings" >&2
  echo "cppcheck: $(wc -l <"$out/findings") finding(s) above" >&2
  exit 1
fi
echo "cppcheck: no findings in src/"
