"""The Spark batch job (deploy/spark/pinpipe_batch.py) gives exactly `pinpipe
batch`'s output: q*.csv, q*.json and rejects.jsonl byte for byte, and the
cleaned Delta tables hold the same rows (sorted by ind, each row rendered as
text) with spec/cleaning.md's types as pinpipe's cleaned Parquet files.

Datasets: four generated lakes (tests/batch/sink_gen through batch_sinkgen:
different seeds, sizes, partitions, gzip, dirt) and the original-sample
fixtures. Medians on both sides are the lower median (spec/queries.md)."""

import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spark_env  # noqa: E402

QUESTIONS = ("q1", "q2", "q3a", "q3b", "q4", "q5", "q6", "q7", "q8")
# name: records per table, distinct posts, records per object, partitions, seed, dirt, format
DATASETS = {
    "gen-a": (3000, 2500, 500, 2, 11, "0.05", "plain"),
    "gen-b": (2000, 600, 300, 3, 12, "0.1", "gzip"),
    "gen-c": (5000, 4900, 1000, 1, 13, "0.02", "plain"),
    "gen-d": (400, 380, 1, 1, 14, "0.2", "plain"),
}
TYPES = {"pin": ["bigint"] + ["string"] * 3 + ["bigint"] + ["string"] * 6,
         "geo": ["bigint", "string", "array<double>", "timestamp"],
         "user": ["bigint", "string", "int", "timestamp"]}


def lake_from_fixture(lake, prefix):
    src = os.path.join(spark_env.ROOT, "tests", "fixtures", "original-sample")
    for t in ("pin", "geo", "user"):
        d = os.path.join(lake, "topics", "%s.%s" % (prefix, t), "partition=0")
        os.makedirs(d)
        shutil.copy(os.path.join(src, t + ".jsonl"), os.path.join(d, "%s.%s+0+0000000000.json" % (prefix, t)))


def rows_text(df):
    return sorted(json.dumps([str(v) if v is not None else None for v in r], ensure_ascii=False)
                  for r in df.collect())


def main():
    spark_env.need_binary(spark_env.PINPIPE)
    spark_env.need_binary(spark_env.SINKGEN)
    spark = spark_env.spark()
    import pinpipe_batch
    failures = 0
    passed = 0
    tmp = tempfile.mkdtemp(prefix="pinpipe-spark-batch-")
    try:
        cases = list(DATASETS) + ["original-sample"]
        for name in cases:
            t0 = time.time()
            lake = os.path.join(tmp, name, "lake")
            if name == "original-sample":
                lake_from_fixture(lake, "p")
            else:
                rec, posts, per, parts, seed, dirt, fmt = DATASETS[name]
                spark_env.run([spark_env.SINKGEN, lake, str(rec), str(posts), str(per), str(parts),
                               str(seed), dirt, fmt, "p"])
            ours = os.path.join(tmp, name, "pinpipe")
            theirs = os.path.join(tmp, name, "spark")
            spark_env.run([spark_env.PINPIPE, "batch", "--store", "file://" + lake, "--prefix", "p",
                           "--out", ours, "-q"])
            pinpipe_batch.run(spark, "file://" + lake, "p", "file://" + theirs)
            bad = []
            files = [q + ext for q in QUESTIONS for ext in (".csv", ".json")] + ["rejects.jsonl"]
            for f in files:
                a = open(os.path.join(ours, f), "rb").read()
                b = open(os.path.join(theirs, f), "rb").read()
                if a != b:
                    bad.append("%s differs:\n--- pinpipe\n%s\n--- spark\n%s" % (
                        f, a[:600].decode(errors="replace"), b[:600].decode(errors="replace")))
            if len(open(os.path.join(ours, "rejects.jsonl"), "rb").read()) == 0 and name != "original-sample":
                bad.append("the dataset made no rejects: the test would not test them")
            for t in ("pin", "geo", "user"):
                p = spark.read.parquet(os.path.join(ours, "cleaned", t + ".parquet"))
                d = spark.read.format("delta").load(os.path.join(theirs, "cleaned", t))
                types = [f.dataType.simpleString() for f in d.schema.fields]
                if types != TYPES[t]:
                    bad.append("%s: Delta types %s, want %s" % (t, types, TYPES[t]))
                if d.columns != p.columns:
                    bad.append("%s: columns %s vs pinpipe's %s" % (t, d.columns, p.columns))
                rp, rd = rows_text(p), rows_text(d)
                if rp != rd:
                    diff = sorted(set(rp) ^ set(rd))[:4]
                    bad.append("%s: cleaned rows differ (%d vs %d), e.g. %s" % (t, len(rp), len(rd), diff))
                elif len(rp) == 0:
                    bad.append("%s: no rows" % t)
            status = "ok" if not bad else "FAILED"
            print("%-16s %s (%.1f s)" % (name, status, time.time() - t0), flush=True)
            for b in bad:
                print("  " + b)
            failures += bool(bad)
            passed += not bad
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
