"""Shared set-up of the Spark peer tests: the peers folder, one local Spark
session per test process (local[2], Delta Lake, the Kafka source), pinpipe's
binaries. A missing peer is a failure with a clear message, never a skip."""

import glob
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS = os.environ.get("PINPIPE_PEERS_DIR", os.path.expanduser("~/.cache/pinpipe/peers"))
BUILD = os.path.abspath(os.environ.get("BUILD_DIR", os.path.join(ROOT, "build", "release")))
PINPIPE = os.path.join(BUILD, "pinpipe")
SINKGEN = os.path.join(BUILD, "bench", "batch", "batch_sinkgen")
sys.path.insert(0, os.path.join(ROOT, "deploy", "spark"))

# The jars Spark needs beyond its own (resolved by scripts/install-peers). The
# other transitive jars in the Ivy folder duplicate classes Spark already has.
_JARS = ("io.delta_delta-spark_", "io.delta_delta-storage-", "org.apache.spark_spark-sql-kafka",
         "org.apache.spark_spark-token-provider-kafka", "org.apache.kafka_kafka-clients",
         "org.apache.commons_commons-pool2")


def fail(msg):
    sys.stderr.write("FAIL: %s\n" % msg)
    sys.exit(1)


def spark_jars():
    jars = sorted(j for j in glob.glob(os.path.join(PEERS, "ivy", "jars", "*.jar"))
                  if os.path.basename(j).startswith(_JARS))
    if len([j for j in jars if "delta-spark" in j]) != 1:
        fail("the Spark jars are missing under %s/ivy/jars: run scripts/install-deps --test "
             "(or scripts/install-peers)" % PEERS)
    return jars


_SESSION = None


def spark():
    """The process's one Spark session."""
    global _SESSION
    if _SESSION is not None:
        return _SESSION
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        fail("pyspark is missing: run the test with %s/venv/bin/python after "
             "scripts/install-deps --test" % PEERS)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    _SESSION = (SparkSession.builder.master("local[2]").appName("pinpipe-peers")
                .config("spark.jars", ",".join(spark_jars()))
                .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
                .config("spark.sql.catalog.spark_catalog",
                        "org.apache.spark.sql.delta.catalog.DeltaCatalog")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.default.parallelism", "2")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.driver.memory", os.environ.get("PINPIPE_SPARK_DRIVER_MEMORY", "1g"))
                .config("spark.databricks.delta.snapshotPartitions", "2")
                .config("spark.sql.sources.parallelPartitionDiscovery.parallelism", "2")
                .getOrCreate())
    _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


def need_binary(path):
    if not os.path.exists(path):
        fail("%s is missing: build it first (cmake --build --preset release)" % path)
    return path


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, **kw)
    if r.returncode != 0:
        fail("%s exited %d: %s" % (" ".join(argv), r.returncode, r.stderr.decode(errors="replace")[-2000:]))
    return r
