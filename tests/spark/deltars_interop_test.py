"""pinpipe reads Delta tables written by delta-rs (issue 17): after append,
overwrite, a delete (files removed and rewritten) and a checkpoint,
`pinpipe table show` reports delta-rs's version and exactly the rows that
delta-rs itself reads."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spark_env  # noqa: E402


def pinpipe_show(path):
    r = subprocess.run([spark_env.PINPIPE, "table", "show", path], capture_output=True, text=True)
    if r.returncode != 0:
        return None, None, r.stderr.strip()
    rows = int(re.search(r"^rows:\s+(\d+)", r.stdout, re.M).group(1))
    version = int(re.search(r"^version:\s+(\d+)", r.stdout, re.M).group(1))
    return version, rows, ""


def main():
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake
    spark_env.need_binary(spark_env.PINPIPE)
    tmp = tempfile.mkdtemp(prefix="pinpipe-deltars-")
    bad, steps = [], 0
    try:
        path = os.path.join(tmp, "p_geo_table")

        def batch(lo, hi):
            return pa.table({"ind": pa.array(range(lo, hi), pa.int64()),
                             "country": pa.array(["c%d" % (i % 7) if i % 5 else None for i in range(lo, hi)])})

        def check(what):
            nonlocal steps
            steps += 1
            dt = DeltaTable(path)
            want_rows, want_version = dt.to_pyarrow_table().num_rows, dt.version()
            version, rows, err = pinpipe_show(path)
            if err:
                bad.append("%s: pinpipe refused: %s" % (what, err))
            elif (version, rows) != (want_version, want_rows):
                bad.append("%s: pinpipe sees version %s with %s rows, delta-rs %s with %s" % (
                    what, version, rows, want_version, want_rows))

        write_deltalake(path, batch(0, 100))
        check("create")
        write_deltalake(path, batch(100, 250), mode="append")
        check("append")
        write_deltalake(path, batch(1000, 1040), mode="overwrite")
        check("overwrite")
        for i in range(3):
            write_deltalake(path, batch(2000 + 10 * i, 2010 + 10 * i), mode="append")
        DeltaTable(path).delete("ind < 1010")
        check("delete")
        DeltaTable(path).create_checkpoint()
        check("checkpoint")
        write_deltalake(path, batch(3000, 3005), mode="append")
        check("append after checkpoint")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for b in bad:
        print("FAIL: " + b)
    print("%d passed, %d failed" % (steps - len(bad), len(bad)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
