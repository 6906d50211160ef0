"""pinpipe's batch job on Apache Spark: the same answers as `pinpipe batch`,
for a lake that has outgrown one machine.

Reads the sink's JSON Lines objects (<lake>/<topics-dir>/<prefix>.{pin,geo,user}/,
`.json` and `.json.gz`, any partition layout) from any Hadoop file system
(file://, s3a://, abfss://, dbfs:/), cleans them with pinpipe_clean (spec/cleaning.md:
first arrival wins, the same rejects with the same reasons), writes the cleaned
tables as Delta (<out>/cleaned/{pin,geo,user}) and the eight answers as
<out>/q*.csv and <out>/q*.json, plus <out>/rejects.jsonl and <out>/summary.json,
in the shapes `pinpipe batch --out` writes.

    spark-submit --packages io.delta:delta-spark_4.2_2.13:4.4.0 \\
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \\
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \\
      --py-files deploy/spark/pinpipe_clean.py deploy/spark/pinpipe_batch.py \\
      --lake s3a://bucket/lake --prefix 0a60b9a8a831 --out s3a://bucket/answers

On Databricks: a spark_python_task with the same parameters (Delta is built in).
"""

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

try:
    import pinpipe_clean as pc
except ImportError:  # run from the repository root
    sys.path.insert(0, __import__("os").path.dirname(__file__))
    import pinpipe_clean as pc

QUESTIONS = ("q1", "q2", "q3a", "q3b", "q4", "q5", "q6", "q7", "q8")
# Columns whose values are numbers in the CSV/JSON answers (the others are text).
NUMERIC = {"category_count", "follower_count", "post_year", "number_users_joined",
           "median_follower_count"}


# ---------------------------------------------------------------------------
# Reading the lake

def read_objects(spark, lake, topics_dir, prefix, table):
    """(key, content) of every .json/.json.gz object of one topic; key relative to the lake."""
    from pyspark.sql import functions as F
    from pyspark.sql.utils import AnalysisException
    topic_dir = "%s/%s.%s" % (topics_dir, prefix, table)
    try:
        df = (spark.read.format("binaryFile").option("recursiveFileLookup", "true")
              .load("%s/%s" % (lake.rstrip("/"), topic_dir)))
    except AnalysisException as e:
        if "PATH_NOT_FOUND" in str(e) or "Path does not exist" in str(e):
            return None
        raise
    marker = "/" + topic_dir + "/"
    key = F.concat(F.lit(topic_dir + "/"),
                   F.substring_index(F.col("path"), marker, -1))
    df = df.where(F.col("path").endswith(".json") | F.col("path").endswith(".json.gz"))
    return df.select(key.alias("key"), "content", "length")


def load(spark, lake, topics_dir, prefix):
    """-> {table: (deduplicated internal rows, rejects df, stats dict)}."""
    out = {}
    for table in pc.TABLES:
        objs = read_objects(spark, lake, topics_dir, prefix, table)
        if objs is None:
            rows = spark.createDataFrame([], pc.spark_schemas()[table])
            rejects = spark.createDataFrame([], pc.reject_schema())
            out[table] = (rows, rejects, {"objects": 0, "bytes": 0})
            continue
        stats = objs.agg({"length": "sum", "key": "count"}).collect()[0]
        # Objects are small (the sink's flush.size); spread them over the cores.
        rdd = objs.select("key", "content").rdd.map(lambda r: (r[0], r[1]))
        rows, rejects, _ = pc.clean_dataframes(spark, table, rdd)
        out[table] = (rows, rejects, {"objects": int(stats[1] or 0), "bytes": int(stats[0] or 0)})
    if all(v[2]["objects"] == 0 for v in out.values()):
        raise SystemExit("pinpipe: error: no data: no .json or .json.gz objects under %s/%s."
                         "{pin,geo,user}/ in %s" % (topics_dir, prefix, lake))
    return out


# ---------------------------------------------------------------------------
# The eight questions (spec/queries.md), on the deduplicated internal rows

def _year(col):
    from pyspark.sql import functions as F
    return F.year(F.timestamp_micros(col))


def _year_in(col, lo, hi):
    from pyspark.sql import functions as F
    y = _year(col)
    return F.when(y.between(lo, hi), y.cast("long"))


def _age_group(col):
    from pyspark.sql import functions as F
    a = F.col(col)
    return (F.when(a.between(18, 24), "18-24").when(a.between(25, 35), "25-35")
            .when(a.between(36, 50), "36-50").when(a >= 51, "+50"))


def _most_popular(df, group, value, count_name):
    """Per group the value with the highest count; ties: value ascending (bytes)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    c = (df.where(F.col(group).isNotNull() & F.col(value).isNotNull())
         .groupBy(group, value).agg(F.count(F.lit(1)).alias(count_name)))
    w = Window.partitionBy(group).orderBy(F.col(count_name).desc(), F.col(value).asc())
    return (c.withColumn("_n", F.row_number().over(w)).where("_n = 1")
            .select(group, value, count_name).orderBy(group))


def _median(df, keys, value, name):
    """Lower median (element floor((n-1)/2) of the sorted non-null values) per key."""
    from pyspark.sql import functions as F
    d = df.where(F.col(value).isNotNull())
    for k in keys:
        d = d.where(F.col(k).isNotNull())
    arr = F.sort_array(F.collect_list(value))
    g = d.groupBy(*keys).agg(arr.alias("_v"))
    idx = (F.floor((F.size("_v") - 1) / 2) + 1).cast("int")
    return g.select(*keys, F.element_at("_v", idx).alias(name)).orderBy(*keys)


def questions(pin, geo, user):
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    pg = pin.join(geo, "ind").cache()
    pu = pin.join(user, "ind").cache()
    res = {}
    res["q1"] = _most_popular(pg, "country", "category", "category_count")
    res["q2"] = _most_popular(pg.withColumn("post_year", _year_in("timestamp_us", 2018, 2022)),
                              "post_year", "category", "category_count")
    cand = pg.where(F.col("country").isNotNull() & F.col("poster_name").isNotNull()
                    & F.col("follower_count").isNotNull())
    w = Window.partitionBy("country").orderBy(F.col("follower_count").desc(),
                                              F.col("poster_name").asc())
    q3a = (cand.withColumn("_n", F.row_number().over(w)).where("_n = 1")
           .select("country", "poster_name", "follower_count").orderBy("country"))
    res["q3a"] = q3a
    res["q3b"] = (q3a.orderBy(F.col("follower_count").desc(), F.col("country").asc())
                  .limit(1).select("country", "follower_count"))
    pua = pu.withColumn("age_group", _age_group("age"))
    res["q4"] = _most_popular(pua, "age_group", "category", "category_count")
    res["q5"] = _median(pua, ["age_group"], "follower_count", "median_follower_count")
    uy = user.withColumn("post_year", _year_in("date_joined_us", 2015, 2020))
    res["q6"] = (uy.where(F.col("post_year").isNotNull()).groupBy("post_year")
                 .agg(F.count(F.lit(1)).alias("number_users_joined")).orderBy("post_year"))
    puy = pua.withColumn("post_year", _year_in("date_joined_us", 2015, 2020))
    res["q7"] = _median(puy, ["post_year"], "follower_count", "median_follower_count")
    res["q8"] = _median(puy, ["age_group", "post_year"], "follower_count",
                        "median_follower_count")
    return res


# ---------------------------------------------------------------------------
# Rendering, exactly as src/pinpipe/batch/render.cc

def _csv_field(s, null):
    if not null and (s == "" or any(c in s for c in ',"\r\n')):
        return '"' + s.replace('"', '""') + '"'
    return s


def render_csv(columns, rows):
    lines = [",".join(_csv_field(c, False) for c in columns)]
    for r in rows:
        lines.append(",".join(_csv_field("" if v is None else str(v), v is None) for v in r))
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_json(columns, rows):
    out = [b"["]
    for i, r in enumerate(rows):
        out.append(b",\n " if i else b"\n ")
        cells = []
        for c, v in zip(columns, r):
            if v is None:
                cell = b"null"
            elif c in NUMERIC:
                cell = str(v).encode()
            else:
                cell = pc.json_quote(v)
            cells.append(pc.json_quote(c) + b": " + cell)
        out.append(b"{" + b", ".join(cells) + b"}")
    out.append(b"\n]\n" if rows else b"]\n")
    return b"".join(out)


# ---------------------------------------------------------------------------
# Output through Hadoop's FileSystem (local, s3a, dbfs alike)

def write_bytes(spark, url, data):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(url)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(data))
    finally:
        stream.close()


def session(app="pinpipe-batch"):
    from pyspark.sql import SparkSession
    spark = SparkSession.builder.appName(app).getOrCreate()
    # Years and timestamps are UTC (spec/cleaning.md), whatever the cluster's zone.
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return spark


def ship_cleaning(spark):
    """Makes pinpipe_clean importable on the executors (also without --py-files)."""
    if not getattr(spark, "_pinpipe_clean_shipped", False):
        spark.sparkContext.addPyFile(pc.__file__)
        spark._pinpipe_clean_shipped = True


def run(spark, lake, prefix, out, topics_dir="topics", write_tables=True):
    """Runs the whole job; returns the summary dict."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    ship_cleaning(spark)
    t0 = time.time()
    loaded = load(spark, lake, topics_dir, prefix)
    tables, summary_tables = {}, {}
    for t in pc.TABLES:
        rows, rejects, stats = loaded[t]
        tables[t] = pc.first_arrival(rows).cache()
        summary_tables[t] = dict(stats)
    out = out.rstrip("/")
    # Rejects in pinpipe's order: table, object key, line.
    def table_stats(t):
        rejects = loaded[t][1].orderBy("_source", "_position").collect()
        return rejects, loaded[t][0].count(), tables[t].count()
    with ThreadPoolExecutor(3) as pool:
        per_table = dict(zip(pc.TABLES, pool.map(table_stats, pc.TABLES)))
    reject_lines = []
    for t in pc.TABLES:
        rejects, rows_in, rows = per_table[t]
        for r in rejects:
            reject_lines.append(pc.reject_json(t, r[0], r[1], r[2], r[3], bytes(r[4] or b"")))
        rejected = sum(1 for r in rejects if not r[3])
        summary_tables[t].update(rejected=rejected, rows=rows, records=rows_in + rejected,
                                 duplicates=rows_in - rows)
    t_load = time.time()
    res = questions(tables["pin"], tables["geo"], tables["user"])
    # The answers are small: many short Spark jobs, run side by side (the
    # scheduler shares the executors) so that their fixed costs overlap.
    with ThreadPoolExecutor(4) as pool:
        answers = dict(zip(QUESTIONS, pool.map(
            lambda q: [tuple(r) for r in res[q].collect()], QUESTIONS)))
    for q in QUESTIONS:
        cols = res[q].columns
        write_bytes(spark, "%s/%s.csv" % (out, q), render_csv(cols, answers[q]))
        write_bytes(spark, "%s/%s.json" % (out, q), render_json(cols, answers[q]))
    t_q = time.time()
    write_bytes(spark, out + "/rejects.jsonl", b"".join(reject_lines))
    if write_tables:
        def write(t):
            (pc.to_table(tables[t], t).write.format("delta").mode("overwrite")
             .option("overwriteSchema", "true").save("%s/cleaned/%s" % (out, t)))
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(write, pc.TABLES))
    t_end = time.time()
    summary = {"engine": "spark", "lake": lake, "prefix": prefix, "tables": summary_tables,
               "timings_ms": {"load_clean": round((t_load - t0) * 1000, 1),
                              "questions": round((t_q - t_load) * 1000, 1),
                              "write": round((t_end - t_q) * 1000, 1),
                              "total": round((t_end - t0) * 1000, 1)}}
    write_bytes(spark, out + "/summary.json", (json.dumps(summary, indent=2) + "\n").encode())
    for t in pc.TABLES:
        tables[t].unpersist()
    return summary


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lake", required=True, help="lake root URL (file:///..., s3a://bucket/path)")
    p.add_argument("--prefix", required=True, help="topic prefix (user id)")
    p.add_argument("--out", required=True, help="output folder URL")
    p.add_argument("--topics-dir", default="topics")
    p.add_argument("--no-tables", action="store_true", help="do not write the Delta tables")
    a = p.parse_args(argv)
    spark = session()
    summary = run(spark, a.lake, a.prefix, a.out, a.topics_dir, not a.no_tables)
    print(json.dumps(summary["tables"]))


if __name__ == "__main__":
    main()
