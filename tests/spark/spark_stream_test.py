"""The Spark streaming job (deploy/spark/pinpipe_stream.py) is exactly-once:
it follows a lake (a file stream over the sink's objects: pinpipe's Kafka
protocol is not there yet), is killed with SIGKILL at a random moment while it
works, is restarted and runs until caught up; then its Delta tables hold each
ind exactly once and equal pinpipe's cleaned tables of the same lake (first
arrival wins), and its rejects are those of `pinpipe batch`."""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spark_env  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def rows_text(df):
    return sorted(json.dumps([str(v) if v is not None else None for v in r], ensure_ascii=False)
                  for r in df.collect())


def delta_commits(path):
    log = os.path.join(path, "_delta_log")
    return len([f for f in os.listdir(log) if f.endswith(".json")]) if os.path.isdir(log) else 0


def main():
    spark_env.need_binary(spark_env.PINPIPE)
    spark_env.need_binary(spark_env.SINKGEN)
    seed = int(os.environ.get("PINPIPE_TEST_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    print("seed %d (PINPIPE_TEST_SEED to repeat)" % seed)
    tmp = tempfile.mkdtemp(prefix="pinpipe-spark-stream-")
    bad = []
    try:
        lake = os.path.join(tmp, "lake")
        spark_env.run([spark_env.SINKGEN, lake, "1000", "800", "100", "2", "21", "0.05", "plain", "p"])
        # Objects "arrive" in key order (the order `pinpipe batch` reads them):
        # the file stream takes files by modification time.
        for t in ("pin", "geo", "user"):
            top = os.path.join(lake, "topics", "p." + t)
            keys = sorted(os.path.relpath(os.path.join(d, f), top)
                          for d, _, fs in os.walk(top) for f in fs)
            for i, k in enumerate(keys):
                os.utime(os.path.join(top, k), (1700000000 + i, 1700000000 + i))
        ours = os.path.join(tmp, "pinpipe")
        spark_env.run([spark_env.PINPIPE, "batch", "--store", "file://" + lake, "--prefix", "p",
                       "--out", ours, "-q"])
        tables, ckpt = os.path.join(tmp, "tables"), os.path.join(tmp, "checkpoints")
        driver = [sys.executable, os.path.join(HERE, "stream_driver.py"), "file://" + lake,
                  "file://" + tables, "file://" + ckpt]
        # Run 1: a continuous stream, killed once the pin table has a commit or
        # two, at a random point of the next micro-batches.
        p = subprocess.Popen(driver + ["continuous"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        pin = os.path.join(tables, "p_pin_table")
        want = rng.randint(1, 3)
        deadline = time.time() + 300
        while delta_commits(pin) < want and time.time() < deadline and p.poll() is None:
            time.sleep(0.2)
        time.sleep(rng.uniform(0, 3))
        before = delta_commits(pin)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        print("killed after %d pin commits" % before)
        if before == 0:
            bad.append("the stream made no commit before it was killed")
        # Run 2: restart from the checkpoints, until caught up.
        r = subprocess.run(driver + ["now"], capture_output=True, timeout=600)
        if r.returncode != 0:
            bad.append("restart failed: " + r.stderr.decode(errors="replace")[-2000:])
        spark = spark_env.spark()
        for t in ("pin", "geo", "user"):
            d = spark.read.format("delta").load(os.path.join(tables, "p_%s_table" % t))
            n, distinct = d.count(), d.select("ind").distinct().count()
            if n != distinct:
                bad.append("%s: %d rows but %d inds" % (t, n, distinct))
            pq = spark.read.parquet(os.path.join(ours, "cleaned", t + ".parquet"))
            rp, rd = rows_text(pq), rows_text(d.select(*pq.columns))
            if rp != rd:
                bad.append("%s: rows differ from pinpipe's (%d vs %d), e.g. %s" % (
                    t, len(rp), len(rd), sorted(set(rp) ^ set(rd))[:3]))
        rej = spark.read.format("delta").load(os.path.join(tables, "p_rejects"))
        got = sorted((r["table"], r["_source"], r["_position"], r["reason"]) for r in rej.collect())
        exp = sorted((j["table"], j["source"], j["position"], j["reason"])
                     for j in map(json.loads, open(os.path.join(ours, "rejects.jsonl"))))
        if got != exp:
            bad.append("rejects differ: %d vs pinpipe's %d" % (len(got), len(exp)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for b in bad:
        print("FAIL: " + b)
    print("%d passed, %d failed" % (0 if bad else 1, 1 if bad else 0))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
