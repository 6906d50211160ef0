"""Runs deploy/spark/pinpipe_stream.py's queries in one local Spark (for
spark_stream_test.py, which kills this process with SIGKILL):

    stream_driver.py <continuous|now> lake <lake URL> <tables URL> <checkpoints URL>
                                      [kafka <bootstrap> <tables URL> <checkpoints URL>]

Each source given gets its three queries (prefix "p"), all in the same session."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spark_env  # noqa: E402
import pinpipe_stream  # noqa: E402

mode, args = sys.argv[1], sys.argv[2:]
now = mode == "now"
# Small micro-batches while the test may kill the driver; larger ones to catch
# up (a batch planned before the kill is replayed with its logged offsets).
files, offsets = (10, 1000) if now else (2, 300)
spark = spark_env.spark()
qs = []
while args:
    source, where, tables, checkpoints = args[:4]
    args = args[4:]
    if source == "lake":
        qs += pinpipe_stream.start(spark, where, "p", tables, checkpoints,
                                   available_now=now, max_files=files)
    else:
        qs += pinpipe_stream.start(spark, None, "p", tables, checkpoints,
                                   available_now=now, source="kafka", bootstrap=where,
                                   max_offsets=offsets)
for q in qs:
    q.awaitTermination()
print("caught up", flush=True)
