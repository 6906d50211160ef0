"""pinpipe's streaming job on Spark Structured Streaming.

Two sources (--source):
- kafka (with --bootstrap): pinpipe's streams over the Kafka protocol (`pinpipe up`
  or `serve`, kafka_api.listen; or an Apache Kafka cluster that pinpipe uses
  as its broker), one topic per table, streaming-<prefix>-{pin,geo,user} (the
  streams `pinpipe stream` reads; --topic-format changes it, e.g.
  "{prefix}.{table}" for the batch topics). Each message is one record.
- lake (with --lake): the JSON lake the sink writes (<lake>/<topics-dir>/<prefix>.{pin,geo,user}/)
  as a file stream; each new object is one input.

Records are cleaned with pinpipe_clean (the module the batch job uses) and the
rows are merged into one Delta table per topic (<tables>/<prefix>_{pin,geo,user}_table)
with an insert-only MERGE on ind: the first arrival of an ind wins, across
micro-batches as well as within one (Kafka: by message timestamp, then
partition and offset, the order `pinpipe stream` uses; lake: object key, then
line), and a replayed micro-batch inserts nothing. Together with the
checkpoint (<checkpoints>/<table>: the source offsets of each micro-batch) that
makes the tables exactly-once across crashes and restarts. Rejects go to
<tables>/<prefix>_rejects (appended with Delta's idempotent txnAppId/txnVersion).

    spark-submit --packages io.delta:delta-spark_4.2_2.13:4.4.0,org.apache.spark:spark-sql-kafka-0-10_2.13:4.2.0 \\
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \\
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \\
      --py-files deploy/spark/pinpipe_clean.py deploy/spark/pinpipe_stream.py \\
      --bootstrap pinpipe-host:9092 --prefix 0a60b9a8a831 \\
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


def _merge_and_reject(spark, table, target, rejects_path, app_id, batch_id, cleaned):
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F
    rows, rejects, out = cleaned
    first = pc.to_table(pc.first_arrival(rows), table)
    (DeltaTable.forPath(spark, target).alias("t").merge(first.alias("s"), "t.ind = s.ind")
     .whenNotMatchedInsertAll().execute())
    (rejects.withColumn("table", F.lit(table)).withColumn("batch", F.lit(batch_id).cast("long"))
     .write.format("delta").mode("append").option("txnAppId", app_id)
     .option("txnVersion", batch_id).save(rejects_path))
    out.unpersist()


def make_lake_batch_fn(spark, table, target, rejects_path, app_id):
    def fn(objs, batch_id):
        objects = objs.select("key", "content").rdd.map(lambda r: (r[0], r[1]))
        _merge_and_reject(spark, table, target, rejects_path, app_id, batch_id,
                          pc.clean_dataframes(spark, table, objects))
    return fn


def make_kafka_batch_fn(spark, table, target, rejects_path, app_id):
    from pyspark.sql import functions as F

    def fn(msgs, batch_id):
        records = (msgs.select(F.concat_ws("/", "topic", F.col("partition").cast("string")),
                               "offset", F.unix_millis("timestamp"), "value")
                   .rdd.map(lambda r: (r[0], r[1], r[2], r[3])))
        _merge_and_reject(spark, table, target, rejects_path, app_id, batch_id,
                          pc.clean_record_dataframes(spark, table, records))
    return fn


def _lake_source(spark, lake, topic_dir, max_files):
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    binary_file = T.StructType([
        T.StructField("path", T.StringType()), T.StructField("modificationTime", T.TimestampType()),
        T.StructField("length", T.LongType()), T.StructField("content", T.BinaryType())])
    src = (spark.readStream.format("binaryFile").schema(binary_file)
           .option("maxFilesPerTrigger", max_files).option("recursiveFileLookup", "true")
           .load("%s/%s" % (lake.rstrip("/"), topic_dir)))
    marker = "/" + topic_dir + "/"
    return (src.where(F.col("path").endswith(".json") | F.col("path").endswith(".json.gz"))
            .select(F.concat(F.lit(topic_dir + "/"),
                             F.substring_index("path", marker, -1)).alias("key"), "content"))


def _kafka_source(spark, bootstrap, topic, max_offsets, kafka_options):
    r = (spark.readStream.format("kafka").option("kafka.bootstrap.servers", bootstrap)
         .option("subscribe", topic).option("startingOffsets", "earliest")
         .option("failOnDataLoss", "true"))
    if max_offsets:
        r = r.option("maxOffsetsPerTrigger", str(max_offsets))
    for k, v in (kafka_options or {}).items():
        r = r.option(k if k.startswith("kafka.") else "kafka." + k, v)
    return r.load().select("topic", "partition", "offset", "timestamp", "value")


def start(spark, lake, prefix, tables, checkpoints, topics_dir="topics", available_now=False,
          max_files=100, source="lake", bootstrap=None, topic_format="streaming-{prefix}-{table}",
          max_offsets=None, kafka_options=None, trigger_seconds=2):
    """Starts one streaming query per table; returns them. source "lake" reads
    the lake's objects (lake, topics_dir, max_files), "kafka" the topics over
    the Kafka protocol (bootstrap, topic_format, max_offsets, kafka_options)."""
    from pyspark.sql import types as T
    if source not in ("lake", "kafka"):
        raise ValueError("source must be lake or kafka, not %r" % source)
    if source == "kafka" and not bootstrap:
        raise ValueError("the kafka source needs bootstrap servers")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.sparkContext.addPyFile(pc.__file__)
    # Every table exists before the queries start: three queries creating the
    # rejects table at once would conflict.
    for table in pc.TABLES:
        empty = pc.to_table(spark.createDataFrame([], pc.spark_schemas()[table]), table)
        ensure_table(spark, table_path(tables, prefix, table), empty.schema)
    rejects_path = "%s/%s_rejects" % (tables.rstrip("/"), prefix)
    ensure_table(spark, rejects_path, T.StructType(
        pc.reject_schema().fields + [T.StructField("table", T.StringType(), False),
                                     T.StructField("batch", T.LongType(), False)]))
    queries = []
    for table in pc.TABLES:
        target = table_path(tables, prefix, table)
        app_id = "pinpipe-stream-%s-%s" % (prefix, table)
        if source == "kafka":
            src = _kafka_source(spark, bootstrap, topic_format.format(prefix=prefix, table=table),
                                max_offsets, kafka_options)
            fn = make_kafka_batch_fn(spark, table, target, rejects_path, app_id)
        else:
            src = _lake_source(spark, lake, "%s/%s.%s" % (topics_dir, prefix, table), max_files)
            fn = make_lake_batch_fn(spark, table, target, rejects_path, app_id)
        w = (src.writeStream.foreachBatch(fn).queryName("pinpipe_%s_%s" % (source, table))
             .option("checkpointLocation", "%s/%s" % (checkpoints.rstrip("/"), table)))
        w = (w.trigger(availableNow=True) if available_now
             else w.trigger(processingTime="%g seconds" % trigger_seconds))
        queries.append(w.start())
    return queries


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", choices=("kafka", "lake"),
                   help="default: kafka with --bootstrap, lake with --lake")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (host:port,...) for --source kafka")
    p.add_argument("--topic-format", default="streaming-{prefix}-{table}",
                   help="topic of each table (default: pinpipe's streams)")
    p.add_argument("--max-offsets-per-trigger", type=int, default=None)
    p.add_argument("--kafka-option", action="append", default=[], metavar="KEY=VALUE",
                   help="a Kafka client setting, e.g. security.protocol=SASL_SSL (repeatable)")
    p.add_argument("--lake", help="the lake's URL for --source lake")
    p.add_argument("--prefix", required=True)
    p.add_argument("--tables", required=True, help="where the Delta tables live")
    p.add_argument("--checkpoints", required=True)
    p.add_argument("--topics-dir", default="topics")
    p.add_argument("--available-now", action="store_true",
                   help="process what is there, then stop (a catch-up run)")
    p.add_argument("--max-files-per-trigger", type=int, default=100)
    a = p.parse_args(argv)
    if a.source is None:
        a.source = "kafka" if a.bootstrap or not a.lake else "lake"
    if a.source == "kafka" and not a.bootstrap:
        p.error("--source kafka needs --bootstrap")
    if a.source == "lake" and not a.lake:
        p.error("--source lake needs --lake")
    options = {}
    for kv in a.kafka_option:
        if "=" not in kv:
            p.error("--kafka-option wants KEY=VALUE, not %r" % kv)
        k, v = kv.split("=", 1)
        options[k] = v
    from pyspark.sql import SparkSession
    spark = SparkSession.builder.appName("pinpipe-stream").getOrCreate()
    qs = start(spark, a.lake, a.prefix, a.tables, a.checkpoints, a.topics_dir, a.available_now,
               a.max_files_per_trigger, source=a.source, bootstrap=a.bootstrap,
               topic_format=a.topic_format, max_offsets=a.max_offsets_per_trigger,
               kafka_options=options)
    for q in qs:
        q.awaitTermination()


if __name__ == "__main__":
    main()
