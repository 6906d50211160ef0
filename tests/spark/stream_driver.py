"""Runs deploy/spark/pinpipe_stream.py's queries in a local Spark (for
spark_stream_test.py, which kills this process with SIGKILL)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spark_env  # noqa: E402
import pinpipe_stream  # noqa: E402

lake, tables, checkpoints, mode = sys.argv[1:5]
spark = spark_env.spark()
qs = pinpipe_stream.start(spark, lake, "p", tables, checkpoints, available_now=(mode == "now"),
                          max_files=2)
for q in qs:
    q.awaitTermination()
print("caught up", flush=True)
