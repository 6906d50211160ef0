"""pyarrow (issue 17) opens every Parquet file `pinpipe batch` writes: the
schema has spec/cleaning.md's types, and each column chunk's statistics
(min, max, null_count) and each row group's row count match the data."""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spark_env  # noqa: E402

TYPES = {
    "pin": ["int64"] + ["string"] * 3 + ["int64"] + ["string"] * 6,
    "geo": ["int64", "string", "list<element: double>", "timestamp[us, tz=UTC]"],
    "user": ["int64", "string", "int32", "timestamp[us, tz=UTC]"],
}


def main():
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    spark_env.need_binary(spark_env.PINPIPE)
    spark_env.need_binary(spark_env.SINKGEN)
    tmp = tempfile.mkdtemp(prefix="pinpipe-pyarrow-")
    bad, checked = [], 0
    try:
        lake, out = os.path.join(tmp, "lake"), os.path.join(tmp, "out")
        spark_env.run([spark_env.SINKGEN, lake, "3000", "2500", "500", "2", "31", "0.05", "plain", "p"])
        spark_env.run([spark_env.PINPIPE, "batch", "--store", "file://" + lake, "--prefix", "p",
                       "--out", out, "-q"])
        for t in ("pin", "geo", "user"):
            path = os.path.join(out, "cleaned", t + ".parquet")
            f = pq.ParquetFile(path)
            table = f.read()
            types = [str(x.type).replace("large_", "") for x in table.schema]
            types = ["list<element: double>" if x.startswith("list<") else x for x in types]
            if types != TYPES[t]:
                bad.append("%s: types %s, want %s" % (t, types, TYPES[t]))
            if table.num_rows == 0:
                bad.append("%s: no rows" % t)
            md = f.metadata
            start = 0
            for g in range(md.num_row_groups):
                rg = md.row_group(g)
                part = table.slice(start, rg.num_rows)
                start += rg.num_rows
                for c in range(rg.num_columns):
                    col = rg.column(c)
                    name = col.path_in_schema.split(".")[0]
                    data = part.column(name)
                    if name == "coordinates":
                        data = pc.list_flatten(data)
                    st = col.statistics
                    if st is None:
                        bad.append("%s.%s: no statistics" % (t, name))
                        continue
                    checked += 1
                    nulls = data.null_count
                    if name != "coordinates" and st.null_count != nulls:
                        bad.append("%s.%s: null_count %s, data has %d" % (t, name, st.null_count, nulls))
                    if st.has_min_max and len(data) > nulls:
                        mm = pc.min_max(data)
                        lo, hi = mm["min"].as_py(), mm["max"].as_py()
                        if st.min != lo or st.max != hi:
                            bad.append("%s.%s: stats [%r, %r], data [%r, %r]" % (t, name, st.min, st.max, lo, hi))
            if start != table.num_rows or md.num_rows != table.num_rows:
                bad.append("%s: row counts of the row groups do not add up" % t)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for b in bad:
        print("FAIL: " + b)
    print("checked %d column chunks" % checked)
    print("%d passed, %d failed" % (0 if bad else 1, 1 if bad else 0))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
