#!/usr/bin/env python3
"""chdb_sql.py DB [FILE ...]: runs SQL scripts in chdb, in-process ClickHouse (PyPI
`chdb`), on the database kept in directory DB, as `clickhouse-client --multiquery` would
against a server: each FILE in turn (none, or `-`: stdin), statements separated by `;`,
stopping at the first error (exit 1, the error on stderr). What the statements return is
printed in their FORMAT (TSV when they name none).

It stands in for clickhouse-client where no server runs, e.g.
  RR_CLICKHOUSE="python3 chdb_sql.py /tmp/wh" deploy/warehouse/clickhouse/load.sh DIR
DB may carry server settings as a query string: /tmp/wh?format_schema_path=/tmp/schemas
(kafka.sql's protobuf schemas). Settings (SET) last until the end of the script,
temporary tables until the process exits.

The engine is loaded without running the chdb package's __init__: that one starts and
stops an engine at import (to read its version), and stopping one marks the process's
registry of streaming tables as shut down, after which no Kafka table can be created in
that process ("Shutdown was called"). Loaded directly, the engine's first start is ours.
Needs a Python where chdb is installed (tests/warehouse/clickhouse.sh makes one).
"""
import glob
import importlib.machinery
import importlib.util
import os
import sys


def load_engine():
    """The chdb engine module (_chdb), loaded from the installed chdb package."""
    spec = importlib.util.find_spec("chdb")  # finds the package, does not import it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("chdb is not installed in this Python (pip install chdb)")
    for d in spec.submodule_search_locations:
        for so in sorted(glob.glob(os.path.join(d, "_chdb*.so"))):
            loader = importlib.machinery.ExtensionFileLoader("_chdb", so)
            mod = importlib.util.module_from_spec(importlib.util.spec_from_loader("_chdb", loader))
            loader.exec_module(mod)
            return mod
    raise ImportError("no _chdb engine in the chdb package")


def connect(db):
    """A connection to the database in directory db (optionally ?setting=value&...)."""
    path, _, params = db.partition("?")
    conn_str = "file:" + os.path.abspath(path) + ("?" + params if params else "")
    return load_engine().connect(conn_str)


def query(conn, sql, fmt="TSV"):
    """Runs sql (one or more statements); returns what it printed, as bytes."""
    res = conn.query(sql, fmt)
    return res.bytes() if res is not None else b""


def main(argv):
    if len(argv) < 2:
        print("usage: chdb_sql.py DB [FILE ...]", file=sys.stderr)
        return 2
    conn = connect(argv[1])
    try:
        for name in argv[2:] or ["-"]:
            if name == "-":
                text = sys.stdin.read()
            else:
                with open(name, encoding="utf-8") as f:
                    text = f.read()
            if not text.strip():
                continue
            try:
                out = query(conn, text)
            except Exception as e:  # the engine raises RuntimeError and its own types
                first = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
                print(f"chdb_sql.py: {name}: {first}", file=sys.stderr)
                return 1
            sys.stdout.buffer.write(out)
            sys.stdout.flush()
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
