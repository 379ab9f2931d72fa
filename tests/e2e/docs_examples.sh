#!/usr/bin/env bash
# The examples of docs/output.md are what replyrate writes: every block marked
# `<!-- example: FILE: SELECTORS -->` holds exactly the lines its selectors
# pick from a fixed small run (tests/e2e/docs_examples.py says how), and no
# block showing records is unmarked. After a change to the outputs,
#   python3 tests/e2e/docs_examples.py build/replyrate --update
# rewrites the marked blocks from the run.
set -euo pipefail
bin=$1
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
python3 "$src/tests/e2e/docs_examples.py" "$bin" --doc "$src/docs/output.md"
