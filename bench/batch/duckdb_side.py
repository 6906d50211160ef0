#!/usr/bin/env python3
"""bench/batch, the DuckDB side: the shipped sql/ on a lake, run the way a DuckDB
user with several questions runs it (and the way sql/README.md says):

    duckdb_side.py SQL_DIR LAKE PREFIX OUT_DIR [--threads N] [--parquet]

- sql/clean.sql: one read_json per topic over the glob of its objects, explicit
  columns, format 'newline_delimited' (no per-file work, no schema sampling);
- the cleaned views materialized once as temp tables (each topic read once);
- q1..q8 over the temp tables, each answer written as OUT_DIR/<q>.csv in the
  CSV dialect of `pinpipe batch --out` (so the files compare byte for byte);
- --parquet: also COPY each cleaned table TO OUT_DIR/cleaned/<table>.parquet
  (FORMAT parquet), as `pinpipe batch --out` writes its cleaned tables.

Prints one JSON line: {"duckdb": version, "timings_ms": {...}, "rows": {...}}.
Needs the duckdb Python package (tests/peers/requirements-duckdb.txt)."""

import json
import os
import re
import sys
import time

QUESTIONS = ("q1", "q2", "q3a", "q3b", "q4", "q5", "q6", "q7", "q8")
TABLES = ("pin", "geo", "user")


def csv_field(v):
    if v is None:
        return ""
    if isinstance(v, list):
        s = "[" + ", ".join("null" if x is None else str(x) for x in v) + "]"
    else:
        s = str(v)
    if s == "" or any(c in s for c in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    parquet = "--parquet" in argv
    threads = 2
    if "--threads" in argv:
        threads = int(argv[argv.index("--threads") + 1])
        args.remove(str(threads))
    if len(args) != 4:
        raise SystemExit(__doc__)
    sql_dir, lake, prefix, out = args
    try:
        import duckdb
    except ImportError:
        raise SystemExit("duckdb_side: the duckdb package is missing: run scripts/install-peers")
    os.makedirs(out, exist_ok=True)
    con = duckdb.connect(":memory:")
    con.execute("SET threads = %d" % threads)
    con.execute("SET VARIABLE lake = ?", [lake])
    con.execute("SET VARIABLE prefix = ?", [prefix])
    timings, rows = {}, {}
    t = time.time()
    con.execute(open(os.path.join(sql_dir, "clean.sql")).read())
    for table in TABLES:
        t0 = time.time()
        con.execute("CREATE TEMP TABLE %s_t AS FROM %s_clean" % (table, table))
        timings["read_clean_" + table] = round((time.time() - t0) * 1000)
        rows[table] = con.execute("SELECT count(*) FROM %s_t" % table).fetchone()[0]
    for q in QUESTIONS:
        t0 = time.time()
        sql = open(os.path.join(sql_dir, q + ".sql")).read()
        sql = re.sub(r"\b(pin|geo|user)_clean\b", r"\1_t", sql)
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        lines = [",".join(csv_field(n) for n in names)]
        lines += [",".join(csv_field(v) for v in r) for r in cur.fetchall()]
        with open(os.path.join(out, q + ".csv"), "w", encoding="utf-8", newline="") as f:
            f.write("\n".join(lines) + "\n")
        timings[q] = round((time.time() - t0) * 1000)
    if parquet:
        os.makedirs(os.path.join(out, "cleaned"), exist_ok=True)
        for table in TABLES:
            t0 = time.time()
            con.execute("COPY %s_t TO '%s' (FORMAT parquet)" % (
                table, os.path.join(out, "cleaned", table + ".parquet").replace("'", "''")))
            timings["copy_" + table] = round((time.time() - t0) * 1000)
    timings["total"] = round((time.time() - t) * 1000)
    print(json.dumps({"duckdb": duckdb.__version__, "timings_ms": timings, "rows": rows}))


if __name__ == "__main__":
    main(sys.argv[1:])
