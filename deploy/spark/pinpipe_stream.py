"""pinpipe's streaming job on Spark Structured Streaming.

Source: the JSON lake the sink writes (<lake>/<topics-dir>/<prefix>.{pin,geo,user}/),
read as a file stream: pinpipe's Kafka protocol was not on main when this was
written, so the job follows the sink's objects instead of the topics. Each new
object is cleaned with pinpipe_clean (the module the batch job uses) and its
rows are merged into one Delta table per topic (<tables>/<prefix>_{pin,geo,user}_table)
with an insert-only MERGE on ind: the first arrival of an ind wins, across
micro-batches as well as within one, and a replayed micro-batch inserts nothing.
Together with the checkpoint (<checkpoints>/<table>) that makes the tables
exactly-once across crashes and restarts. Rejects go to <tables>/<prefix>_rejects
(appended with Delta's idempotent txnAppId/txnVersion).

    spark-submit --packages io.delta:delta-spark_4.2_2.13:4.4.0 \\
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \\
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \\
      --py-files deploy/spark/pinpipe_clean.py deploy/spark/pinpipe_stream.py \\
      --lake s3a://bucket/lake --prefix 0a60b9a8a831 \\
      --tables s3a://bucket/delta --checkpoints s3a://bucket/checkpoints [--available-now]
"""

import argparse
import sys

try:
    import pinpipe_clean as pc
except ImportError:
    sys.path.insert(0, __import__("os").path.dirname(__file__))
    import pinpipe_clean as pc


def table_path(tables, prefix, table):
    return "%s/%s_%s_table" % (tables.rstrip("/"), prefix, table)


def ensure_table(spark, path, schema):
    from delta.tables import DeltaTable
    if not DeltaTable.isDeltaTable(spark, path):
        (spark.createDataFrame([], schema).write.format("delta").mode("ignore").save(path))
    return DeltaTable.forPath(spark, path)


def make_batch_fn(spark, table, target, rejects_path, app_id):
    from delta.tables import DeltaTable

    def fn(objs, batch_id):
        objects = objs.select("key", "content").rdd.map(lambda r: (r[0], r[1]))
        rows, rejects, out = pc.clean_dataframes(spark, table, objects)
        first = pc.to_table(pc.first_arrival(rows), table)
        tgt = DeltaTable.forPath(spark, target)
        (tgt.alias("t").merge(first.alias("s"), "t.ind = s.ind")
         .whenNotMatchedInsertAll().execute())
        from pyspark.sql import functions as F
        (rejects.withColumn("table", F.lit(table)).withColumn("batch", F.lit(batch_id).cast("long"))
         .write.format("delta").mode("append").option("txnAppId", app_id)
         .option("txnVersion", batch_id).save(rejects_path))
        out.unpersist()
    return fn


def start(spark, lake, prefix, tables, checkpoints, topics_dir="topics", available_now=False,
          max_files=100):
    """Starts one streaming query per table; returns them."""
    from pyspark.sql import functions as F
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.sparkContext.addPyFile(pc.__file__)
    # Every table exists before the queries start: three queries creating the
    # rejects table at once would conflict.
    from pyspark.sql import types as T
    for table in pc.TABLES:
        empty = pc.to_table(spark.createDataFrame([], pc.spark_schemas()[table]), table)
        ensure_table(spark, table_path(tables, prefix, table), empty.schema)
    ensure_table(spark, "%s/%s_rejects" % (tables.rstrip("/"), prefix), T.StructType(
        pc.reject_schema().fields + [T.StructField("table", T.StringType(), False),
                                     T.StructField("batch", T.LongType(), False)]))
    queries = []
    for table in pc.TABLES:
        topic_dir = "%s/%s.%s" % (topics_dir, prefix, table)
        from pyspark.sql import types as T
        binary_file = T.StructType([
            T.StructField("path", T.StringType()), T.StructField("modificationTime", T.TimestampType()),
            T.StructField("length", T.LongType()), T.StructField("content", T.BinaryType())])
        src = (spark.readStream.format("binaryFile").schema(binary_file).option("maxFilesPerTrigger", max_files)
               .option("recursiveFileLookup", "true")
               .load("%s/%s" % (lake.rstrip("/"), topic_dir)))
        marker = "/" + topic_dir + "/"
        objs = (src.where(F.col("path").endswith(".json") | F.col("path").endswith(".json.gz"))
                .select(F.concat(F.lit(topic_dir + "/"),
                                 F.substring_index("path", marker, -1)).alias("key"), "content"))
        fn = make_batch_fn(spark, table, table_path(tables, prefix, table),
                           "%s/%s_rejects" % (tables.rstrip("/"), prefix),
                           "pinpipe-stream-%s-%s" % (prefix, table))
        w = (objs.writeStream.foreachBatch(fn).queryName("pinpipe_%s" % table)
             .option("checkpointLocation", "%s/%s" % (checkpoints.rstrip("/"), table)))
        w = w.trigger(availableNow=True) if available_now else w.trigger(processingTime="2 seconds")
        queries.append(w.start())
    return queries


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lake", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--tables", required=True, help="where the Delta tables live")
    p.add_argument("--checkpoints", required=True)
    p.add_argument("--topics-dir", default="topics")
    p.add_argument("--available-now", action="store_true",
                   help="process what is there, then stop (a catch-up run)")
    p.add_argument("--max-files-per-trigger", type=int, default=100)
    a = p.parse_args(argv)
    from pyspark.sql import SparkSession
    spark = SparkSession.builder.appName("pinpipe-stream").getOrCreate()
    qs = start(spark, a.lake, a.prefix, a.tables, a.checkpoints, a.topics_dir, a.available_now,
               a.max_files_per_trigger)
    for q in qs:
        q.awaitTermination()


if __name__ == "__main__":
    main()
