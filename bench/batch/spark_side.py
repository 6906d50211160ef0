#!/usr/bin/env python3
"""bench/batch, the Spark side: deploy/spark/pinpipe_batch.py in local[2] on a lake,
writing its cleaned tables as Delta, timed as one child process tree.

    bench/batch/spark_side.py LAKE_DIR PREFIX OUT_DIR   -> one JSON line on stdout:
    {"engine": "spark local[2]", "seconds": ..., "peak_rss_bytes": ..., "job_ms": {...}}

bench/batch/run calls `spark_case(lake, prefix, out)` (import this file) so that
the Spark numbers sit beside pinpipe's and DuckDB's in the same run. Time
includes the JVM start (as a spark-submit would); peak RSS is the peak of the
sum over the process tree (CPU: the tree's user+system seconds) (the JVM, which is driver and executor in local
mode, plus the Python workers), sampled every 0.2 s. Needs the Spark peers
(scripts/install-peers)."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS = os.environ.get("PINPIPE_PEERS_DIR", os.path.expanduser("~/.cache/pinpipe/peers"))

_DRIVER = """
import json, os, sys
os.environ.setdefault("PINPIPE_SPARK_DRIVER_MEMORY", "4g")
sys.path.insert(0, %r)
import spark_env, pinpipe_batch
s = spark_env.spark()
summary = pinpipe_batch.run(s, "file://" + sys.argv[1], sys.argv[2], "file://" + sys.argv[3])
print(json.dumps(summary["timings_ms"]))
""" % os.path.join(ROOT, "tests", "spark")


def spark_case(lake, prefix, out, timeout=None):
    """-> the numbers; with `timeout` (seconds) a run still going then is
    killed and reported as {"timed_out": true, "seconds": timeout, ...}."""
    py = os.path.join(PEERS, "venv", "bin", "python")
    if not os.path.exists(py):
        raise SystemExit("spark_side: the Spark peers are missing (%s): run scripts/install-peers" % py)
    t = time.time()
    p = subprocess.Popen([py, "-c", _DRIVER, os.path.abspath(lake), prefix, os.path.abspath(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    peak, cpu = [0], [0.0]
    done = threading.Event()

    def sample():
        # The JVM is a grandchild that py4j does not reap, so getrusage misses
        # it: sample the RSS sum of the whole process tree instead.
        while not done.is_set():
            rss, secs = tree_usage(p.pid)
            peak[0] = max(peak[0], rss)
            cpu[0] = max(cpu[0], secs)
            time.sleep(0.2)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        stdout, stderr = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        done.set()
        th.join()
        return {"engine": "spark local[2]", "timed_out": True, "seconds": round(time.time() - t, 2),
                "peak_rss_bytes": peak[0], "cpu_seconds": round(cpu[0], 1), "job_ms": None}
    seconds = time.time() - t
    done.set()
    th.join()
    if p.returncode != 0:
        raise SystemExit("spark_side: the Spark job failed:\n" + stderr[-3000:])
    job_ms = json.loads(stdout.strip().splitlines()[-1])
    return {"engine": "spark local[2]", "seconds": round(seconds, 2),
            "peak_rss_bytes": peak[0], "cpu_seconds": round(cpu[0], 1), "job_ms": job_ms}


def tree_usage(root):
    """(sum of RSS bytes, sum of user+system CPU seconds) of `root` and its
    descendants now (CPU of descendants that already exited is not counted)."""
    parent, rss, cpu = {}, {}, {}
    tick = os.sysconf("SC_CLK_TCK")
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parent[int(d)] = int(fields[1])
            rss[int(d)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            cpu[int(d)] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    total, secs, todo = 0, 0.0, [root]
    seen = set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += rss.get(pid, 0)
        secs += cpu.get(pid, 0.0)
        todo.extend(c for c, pp in parent.items() if pp == pid)
    return total, secs


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    print(json.dumps(spark_case(*sys.argv[1:])))
