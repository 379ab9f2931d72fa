#!/usr/bin/env bash
# One line for the peers report: what this contender is and how it ran.
HERE=$(cd "$(dirname "$0")" && pwd)
"$HERE/.venv/bin/python" - <<'PY'
import platform, duckdb, pyarrow
con = duckdb.connect()
threads = con.execute("select current_setting('threads')").fetchone()[0]
print(f"DuckDB {duckdb.__version__} (PyPI) from Python {platform.python_version()}, "
      f"{threads} threads (its default: every core); the SQL (bench/peers/duckdb/metrics.sql) "
      f"over a Parquet export of the same file (export.py with pyarrow {pyarrow.__version__}, untimed); "
      "the timed run includes starting Python and importing duckdb, and writing records.jsonl")
PY
