"""The Spark streaming job (deploy/spark/pinpipe_stream.py) is exactly-once,
with both of its sources in one Spark driver:

- kafka: the records of a generated lake are posted through `pinpipe up`'s
  Kinesis API (PutRecords, boto3) into streaming-p-{pin,geo,user}; the job
  reads them over pinpipe's Kafka protocol (kafka_api.listen, spark-sql-kafka).
  Half is posted before the job starts, half while it runs.
- lake: a file stream over the same lake's objects.

The driver is killed with SIGKILL at a random moment once the Kafka pin table
has a micro-batch or two, is restarted and runs until caught up
(availableNow). Then each table holds each ind exactly once; the Kafka tables
equal `pinpipe stream`'s own Delta tables of the same records (the stream job
inside `up`, drained with `pinpipe stream --once`), with the same rejects; the
lake tables equal `pinpipe batch`'s cleaned rows for the lake, with its rejects."""

import collections
import glob
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
sys.path.insert(0, os.path.join(spark_env.ROOT, "tests", "support"))
from pinpipe_proc import Pinpipe, free_port  # noqa: E402

TABLES = ("pin", "geo", "user")


class Abort(Exception):
    """The test cannot go on; the reason is in `bad`."""


def rows_text(df):
    return sorted(json.dumps([str(v) if v is not None else None for v in r], ensure_ascii=False)
                  for r in df.collect())


def delta_commits(path):
    log = os.path.join(path, "_delta_log")
    return len([f for f in os.listdir(log) if f.endswith(".json")]) if os.path.isdir(log) else 0


def lake_records(lake, table):
    """The non-blank lines of a table's objects in key order: the arrival order
    `pinpipe batch` and the lake file stream use."""
    top = os.path.join(lake, "topics", "p." + table)
    keys = sorted(os.path.relpath(os.path.join(d, f), top) for d, _, fs in os.walk(top) for f in fs)
    out = []
    for k in keys:
        with open(os.path.join(top, k), "rb") as f:
            out += [line for line in f.read().split(b"\n") if line.strip(b" \t\r")]
    return out


def kinesis(base):
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        spark_env.fail("boto3 is missing in the peers venv: run scripts/install-deps --test")
    return boto3.session.Session(aws_access_key_id="AKIDSPARKTEST", aws_secret_access_key="x",
                                 region_name="eu-west-1").client(
        "kinesis", endpoint_url=base, config=Config(retries={"max_attempts": 3}))


def post(k, table, records):
    stream = "streaming-p-" + table
    for i in range(0, len(records), 250):
        chunk = records[i:i + 250]
        r = k.put_records(StreamName=stream, Records=[
            {"Data": rec, "PartitionKey": "k%d" % (i + j)} for j, rec in enumerate(chunk)])
        if r.get("FailedRecordCount"):
            spark_env.fail("PutRecords to %s failed for %d records" % (stream, r["FailedRecordCount"]))


def pinpipe_rejects(tables):
    """(table, reason, row_kept) of every reject `pinpipe stream` kept beside its
    checkpoints, one file per micro-batch."""
    out = []
    for t in TABLES:
        for f in glob.glob(os.path.join(tables, "_checkpoints", "pinpipe-stream-p-" + t,
                                        "rejects", "*.jsonl")):
            for line in open(f, encoding="utf-8"):
                j = json.loads(line)
                out.append((t, j["reason"], j["row_kept"]))
    return sorted(out)


def check_tables(spark, bad, what, tables, expected):
    """Each ind once per table, rows equal `expected[table]` (a DataFrame)."""
    for t in TABLES:
        d = spark.read.format("delta").load(os.path.join(tables, "p_%s_table" % t))
        n, distinct = d.count(), d.select("ind").distinct().count()
        if n != distinct:
            bad.append("%s %s: %d rows but %d inds" % (what, t, n, distinct))
        want = expected[t]
        rw, rd = rows_text(want), rows_text(d.select(*want.columns))
        if not rw:
            bad.append("%s %s: the expected table is empty" % (what, t))
        if rw != rd:
            bad.append("%s %s: rows differ (%d expected, %d stored), e.g. %s" % (
                what, t, len(rw), len(rd), sorted(set(rw) ^ set(rd))[:3]))


def main():
    spark_env.need_binary(spark_env.PINPIPE)
    spark_env.need_binary(spark_env.SINKGEN)
    seed = int(os.environ.get("PINPIPE_TEST_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    print("seed %d (PINPIPE_TEST_SEED to repeat)" % seed)
    tmp = tempfile.mkdtemp(prefix="pinpipe-spark-stream-")
    bad = []
    up = None
    try:
        lake = os.path.join(tmp, "lake")
        spark_env.run([spark_env.SINKGEN, lake, "1000", "800", "100", "2", "21", "0.05", "plain", "p"])
        # Objects "arrive" in key order (the order `pinpipe batch` reads them):
        # the file stream takes files by modification time.
        for t in TABLES:
            top = os.path.join(lake, "topics", "p." + t)
            keys = sorted(os.path.relpath(os.path.join(d, f), top)
                          for d, _, fs in os.walk(top) for f in fs)
            for i, k in enumerate(keys):
                os.utime(os.path.join(top, k), (1700000000 + i, 1700000000 + i))
        ours = os.path.join(tmp, "pinpipe")
        spark_env.run([spark_env.PINPIPE, "batch", "--store", "file://" + lake, "--prefix", "p",
                       "--out", ours, "-q"])

        # pinpipe up: the Kinesis API to post through, the Kafka protocol for
        # Spark, and its own streaming job into pp_tables.
        data, pp_tables = os.path.join(tmp, "up"), os.path.join(tmp, "pp_tables")
        kafka_port = free_port()
        bootstrap = "127.0.0.1:%d" % kafka_port
        config = ["--log-level", "warn", "--set", "sink.enabled=false", "--set",
                  "schedule.enabled=false", "--set", "stream.trigger_ms=200", "--set",
                  "stream.tables=file://" + pp_tables]
        up = Pinpipe(spark_env.PINPIPE, tmp, config + [
            "up", "--listen", "127.0.0.1:{port}", "--kafka-listen", bootstrap, "--data-dir", data,
            "--prefix", "p"])
        k = kinesis(up.base)
        records = {t: lake_records(lake, t) for t in TABLES}
        for t in TABLES:
            k.create_stream(StreamName="streaming-p-" + t, ShardCount=1)
        for t in TABLES:
            post(k, t, records[t][:len(records[t]) // 2])

        tables, ckpt = os.path.join(tmp, "tables"), os.path.join(tmp, "checkpoints")
        ktables, kckpt = os.path.join(tmp, "ktables"), os.path.join(tmp, "kcheckpoints")
        driver = [sys.executable, os.path.join(HERE, "stream_driver.py")]
        sources = ["lake", "file://" + lake, "file://" + tables, "file://" + ckpt,
                   "kafka", bootstrap, "file://" + ktables, "file://" + kckpt]
        # Run 1: continuous; the rest is posted once the Kafka pin table has its
        # first micro-batch (commit 0 creates the table), and the driver is
        # killed at a random point of the next micro-batches.
        log1 = open(os.path.join(tmp, "run1.log"), "wb")
        p = subprocess.Popen(driver + ["continuous"] + sources, stdout=log1, stderr=log1,
                             start_new_session=True)
        kpin = os.path.join(ktables, "p_pin_table")
        deadline = time.time() + 300
        while delta_commits(kpin) < 2 and time.time() < deadline and p.poll() is None:
            time.sleep(0.2)
        if delta_commits(kpin) < 2:
            log1.close()
            bad.append("run 1 made no Kafka micro-batch: " +
                       open(os.path.join(tmp, "run1.log"), errors="replace").read()[-3000:])
            raise Abort()
        for t in TABLES:
            post(k, t, records[t][len(records[t]) // 2:])
        want = delta_commits(kpin) + rng.randint(0, 2)
        while delta_commits(kpin) < want and time.time() < deadline and p.poll() is None:
            time.sleep(0.2)
        time.sleep(rng.uniform(0, 3))
        before = (delta_commits(kpin), delta_commits(os.path.join(tables, "p_pin_table")))
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        log1.close()
        print("killed after %d Kafka and %d lake pin commits (table creation included)" % before)

        # Run 2: restart from the checkpoints, until caught up.
        t0 = time.time()
        r = subprocess.run(driver + ["now"] + sources, capture_output=True, timeout=600)
        if r.returncode != 0:
            bad.append("restart failed: " + r.stderr.decode(errors="replace")[-3000:])
        print("restart caught up in %.0f s" % (time.time() - t0))

        # pinpipe's own stream job: stop up, drain what it had not committed.
        up.stop()
        up = None
        spark_env.run([spark_env.PINPIPE] + config + ["stream", "--prefix", "p", "--data-dir",
                                                      data, "--once"])

        spark = spark_env.spark()
        pp = {t: spark.read.format("delta").load(os.path.join(pp_tables, "p_%s_table" % t))
              for t in TABLES}
        check_tables(spark, bad, "kafka vs pinpipe stream", ktables, pp)
        batch = {t: spark.read.parquet(os.path.join(ours, "cleaned", t + ".parquet")) for t in TABLES}
        check_tables(spark, bad, "lake vs pinpipe batch", tables, batch)
        # The records posted are the lake's in the same order: the stream's
        # tables are the batch's too.
        check_tables(spark, bad, "kafka vs pinpipe batch", ktables, batch)

        krej = spark.read.format("delta").load(os.path.join(ktables, "p_rejects"))
        got = sorted((r["table"], r["reason"], r["row_kept"]) for r in krej.collect())
        exp = pinpipe_rejects(pp_tables)
        if not exp or got != exp:
            diff = collections.Counter(got)
            diff.subtract(collections.Counter(exp))
            bad.append("kafka rejects differ from pinpipe stream's: %d vs %d, %s" % (
                len(got), len(exp), [x for x in diff.items() if x[1]][:4]))
        positions = [(r["table"], r["_source"], r["_position"]) for r in krej.collect()]
        if len(set(positions)) != len(positions):
            bad.append("a Kafka reject is stored twice")
        rej = spark.read.format("delta").load(os.path.join(tables, "p_rejects"))
        got = sorted((r["table"], r["_source"], r["_position"], r["reason"]) for r in rej.collect())
        exp = sorted((j["table"], j["source"], j["position"], j["reason"])
                     for j in map(json.loads, open(os.path.join(ours, "rejects.jsonl"))))
        if got != exp:
            bad.append("lake rejects differ: %d vs pinpipe's %d" % (len(got), len(exp)))
    except Abort:
        pass
    finally:
        if up is not None:
            up.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    for b in bad:
        print("FAIL: " + b)
    print("%d passed, %d failed" % (0 if bad else 1, 1 if bad else 0))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
