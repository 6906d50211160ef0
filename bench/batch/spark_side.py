#!/usr/bin/env python3
"""bench/batch, the Spark side: deploy/spark/pinpipe_batch.py in local[2] on a lake,
writing its cleaned tables as Delta, timed as one child process tree.

    bench/batch/spark_side.py LAKE_DIR PREFIX OUT_DIR   -> one JSON line on stdout:
    {"engine": "spark local[2]", "seconds": ..., "peak_rss_bytes": ..., "job_ms": {...}}

bench/batch/run calls `spark_case(lake, prefix, out)` (import this file) so that
the Spark numbers sit beside pinpipe's and DuckDB's in the same run. Time
includes the JVM start (as a spark-submit would); peak RSS is the largest
single process of the tree (the JVM: driver and executor are one process in
local mode), not the sum with the Python workers. Needs the Spark peers
(scripts/install-peers)."""

import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS = os.environ.get("PINPIPE_PEERS_DIR", os.path.expanduser("~/.cache/pinpipe/peers"))

_DRIVER = """
import json, sys
sys.path.insert(0, %r)
import spark_env, pinpipe_batch
s = spark_env.spark()
summary = pinpipe_batch.run(s, "file://" + sys.argv[1], sys.argv[2], "file://" + sys.argv[3])
print(json.dumps(summary["timings_ms"]))
""" % os.path.join(ROOT, "tests", "spark")


def spark_case(lake, prefix, out):
    py = os.path.join(PEERS, "venv", "bin", "python")
    if not os.path.exists(py):
        raise SystemExit("spark_side: the Spark peers are missing (%s): run scripts/install-peers" % py)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.time()
    r = subprocess.run([py, "-c", _DRIVER, os.path.abspath(lake), prefix, os.path.abspath(out)],
                       capture_output=True, text=True)
    seconds = time.time() - t
    if r.returncode != 0:
        raise SystemExit("spark_side: the Spark job failed:\n" + r.stderr[-3000:])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    job_ms = json.loads(r.stdout.strip().splitlines()[-1])
    return {"engine": "spark local[2]", "seconds": round(seconds, 2),
            "peak_rss_bytes": peak if peak > before * 1024 else None, "job_ms": job_ms}


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    print(json.dumps(spark_case(*sys.argv[1:])))
