"""Spark (delta-spark) and delta-rs read every Delta table pinpipe writes, and
pinpipe reads Spark's (issue 17). One Spark session for all of it.

1. pinpipe's streaming tables (pin, geo, user; `pinpipe serve` -> emulate
   --mode stream -> `pinpipe stream --once`, 11 rounds so the writer's own
   checkpoint at version 10 is there), then after `pinpipe table optimize`,
   after `vacuum --retention-hours 0`, after `table checkpoint` and one more
   append: Spark, delta-rs and DuckDB (reading exactly the files the JSON log
   lists, replayed here) get the same rows, with the declared types; Spark's
   filtered counts (data skipping on pinpipe's stats) equal the judge's;
   `DESCRIBE HISTORY` and delta-rs `history()` list every version with
   pinpipe's operations.
2. Tables Spark writes (append, overwrite, DELETE, checkpoints every 2
   commits): `pinpipe table show` gives Spark's version and row count; pinpipe
   appends to one and Spark reads them. Tables with features pinpipe does not
   support (deletion vectors, column mapping, partitions, timestamp_ntz,
   deploy/spark's rejects table with its binary column, change data feed for
   writes) are refused with the feature or type named.
3. The JSON lake (REST -> embedded log -> `pinpipe sink`, and the
   original-sample fixture) read by Spark with spec/data.md's schema
   (docs/formats/lake-json.md), FAILFAST, equals Python's own parse."""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spark_env  # noqa: E402

P = spark_env.PINPIPE
PREFIX = "r17"
TYPES = {"pin": ["bigint"] + ["string"] * 3 + ["bigint"] + ["string"] * 6,
         "geo": ["bigint", "string", "array<double>", "timestamp"],
         "user": ["bigint", "string", "int", "timestamp"]}
ARROW = {"bigint": "int64", "int": "int32", "string": "string", "array<double>": "list<item: double>",
         "timestamp": "timestamp[us, tz=UTC]"}
DUCK = {"bigint": "BIGINT", "int": "INTEGER", "string": "VARCHAR", "array<double>": "DOUBLE[]",
        "timestamp": "TIMESTAMP WITH TIME ZONE"}
bad = []
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        bad.append(what)
        print("FAIL: " + what, flush=True)
    return ok


def pinpipe(*args, ok=True):
    r = subprocess.run([P, "--log-level", "warn"] + list(args), capture_output=True, text=True)
    if ok and r.returncode != 0:
        spark_env.fail("pinpipe %s exited %d: %s" % (" ".join(args), r.returncode, r.stderr[-2000:]))
    return r


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, secs=60):
    import socket
    end = time.time() + secs
    while time.time() < end:
        if proc.poll() is not None:
            spark_env.fail("pinpipe serve exited: %s" % proc.stderr.read().decode()[-2000:])
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    spark_env.fail("pinpipe serve did not listen on %d" % port)


def active_files(path):
    """The table's data files, by replaying the JSON commits (independent of pinpipe)."""
    log = os.path.join(path, "_delta_log")
    files = set()
    for f in sorted(x for x in os.listdir(log) if re.fullmatch(r"\d{20}\.json", x)):
        for line in open(os.path.join(log, f)):
            a = json.loads(line)
            if "add" in a:
                files.add(a["add"]["path"])
            if "remove" in a:
                files.discard(a["remove"]["path"])
    return sorted(os.path.join(path, f) for f in files)


def norm(types, row):
    """A row as comparable Python values (timestamps in microseconds)."""
    out = []
    for t, v in zip(types, row):
        if v is None:
            out.append(None)
        elif t in ("bigint", "int", "timestamp"):
            out.append(int(v))
        elif t == "array<double>":
            out.append(tuple(None if x is None else float(x) for x in v))
        else:
            out.append(str(v))
    return tuple(out)


def duckdb(sqls):
    r = subprocess.run(["node", os.path.join(spark_env.ROOT, "tests", "table", "duckdb_query.js")] + sqls,
                       capture_output=True, text=True,
                       env=dict(os.environ, NODE_PATH=os.path.join(spark_env.ROOT, "tests", "peers",
                                                                   "node_modules")))
    if r.returncode != 0:
        spark_env.fail("DuckDB (node tests/table/duckdb_query.js, npm peers in tests/peers) failed: "
                       + r.stderr[-1500:])
    return json.loads(r.stdout)


def spark_rows(spark, df, types):
    from pyspark.sql import functions as F
    cols = [F.unix_micros(F.col(c)).alias(c) if t == "timestamp" else F.col(c)
            for c, t in zip(df.columns, types)]
    return sorted((norm(types, r) for r in df.select(*cols).collect()), key=repr)


def compare_table(spark, path, kind, stage, filters=True):
    from deltalake import DeltaTable
    types = TYPES[kind]
    name = "%s %s" % (stage, kind)
    df = spark.read.format("delta").load(path)
    got_types = [f.dataType.simpleString() for f in df.schema.fields]
    check(got_types == types, "%s: Spark types %s, want %s" % (name, got_types, types))
    cols = df.columns
    # The judge: DuckDB on exactly the files the log lists.
    files = active_files(path)
    lst = "[" + ",".join("'%s'" % f for f in files) + "]"
    proj = ",".join("epoch_us(\"%s\")" % c if t == "timestamp" else "\"%s\"" % c for c, t in zip(cols, types))
    d_all, d_types = duckdb(["SELECT %s FROM read_parquet(%s)" % (proj, lst),
                             "SELECT * FROM read_parquet(%s) LIMIT 0" % lst])
    judge = sorted((norm(types, r) for r in d_all["rows"]), key=repr)
    check(d_types["types"] == [DUCK[t] for t in types], "%s: DuckDB types %s" % (name, d_types["types"]))
    check(len(judge) > 0, "%s: no rows" % name)
    check(len(set(r[0] for r in judge)) == len(judge), "%s: an ind twice in the judge's rows" % name)
    srows = spark_rows(spark, df, types)
    check(srows == judge, "%s: Spark reads %d rows, DuckDB %d; e.g. %s" % (
        name, len(srows), len(judge), sorted(set(srows) ^ set(judge), key=repr)[:2]))
    dt = DeltaTable(path)
    at = dt.to_pyarrow_table()
    arrow_types = [str(f.type).replace("<element: ", "<item: ") for f in at.schema]
    check(arrow_types == [ARROW[t] for t in types],
          "%s: delta-rs types %s" % (name, arrow_types))
    import pyarrow as pa
    at = pa.table([c.cast(pa.int64()) if pa.types.is_timestamp(c.type) else c for c in at.columns],
                  names=at.column_names)
    drows = sorted((norm(types, [r[c] for c in cols]) for r in at.to_pylist()), key=repr)
    check(drows == judge, "%s: delta-rs reads %d rows, DuckDB %d" % (name, len(drows), len(judge)))
    show = pinpipe("table", "show", path).stdout
    n = int(re.search(r"^rows:\s+(\d+)", show, re.M).group(1))
    v = int(re.search(r"^version:\s+(\d+)", show, re.M).group(1))
    check(n == len(judge), "%s: pinpipe table show counts %d rows, DuckDB %d" % (name, n, len(judge)))
    check(v == dt.version(), "%s: pinpipe at version %d, delta-rs %d" % (name, v, dt.version()))
    if not filters:
        return len(judge)
    # Data skipping on pinpipe's stats: filtered counts equal the judge's.
    inds = sorted(r[0] for r in judge)
    mid = inds[len(inds) // 2]
    check(df.where("ind <= %d" % mid).count() == sum(1 for i in inds if i <= mid),
          "%s: Spark count(ind <= %d) differs" % (name, mid))
    for c, t in zip(cols, types):
        i = cols.index(c)
        vals = sorted(r[i] for r in judge if r[i] is not None)
        if not vals:
            continue
        if t == "timestamp":
            x = vals[len(vals) // 3]
            want = sum(1 for r in judge if r[i] is not None and r[i] >= x)
            got = df.where("%s >= timestamp_micros(%d)" % (c, x)).count()
            check(got == want, "%s: Spark count(%s >= %d) is %d, want %d" % (name, c, x, got, want))
            check(df.where("%s = timestamp_micros(%d)" % (c, vals[-1])).count() ==
                  sum(1 for r in judge if r[i] == vals[-1]), "%s: Spark misses the max %s" % (name, c))
        elif t == "string" and c in ("country", "category", "user_name", "unique_id"):
            for x in (vals[0], vals[-1]):
                want = sum(1 for r in judge if r[i] == x)
                got = df.where(df[c] == x).count()
                check(got == want, "%s: Spark count(%s = %r) is %d, want %d" % (name, c, x, got, want))
    return len(judge)


def history_check(spark, path, kind):
    from deltalake import DeltaTable
    h = pinpipe("table", "history", "--limit", "1000", path).stdout.splitlines()[1:]
    ours = {}
    for line in h:
        m = re.match(r"\s*(\d+)\s+(\d+)\s+(.*?)\s+(\{.*)$", line)
        if check(m is not None, "%s: pinpipe table history line %r" % (kind, line)):
            ours[int(m.group(1))] = m.group(3)
    sh = {r["version"]: r["operation"] for r in
          spark.sql("DESCRIBE HISTORY delta.`%s`" % path).select("version", "operation").collect()}
    dh = {r["version"]: r.get("operation") for r in DeltaTable(path).history()}
    check(sorted(sh) == list(range(max(sh) + 1)), "%s: DESCRIBE HISTORY versions %s" % (kind, sorted(sh)))
    check(sh == dh, "%s: DESCRIBE HISTORY %s vs delta-rs history() %s" % (kind, sh, dh))
    check(sh == ours, "%s: DESCRIBE HISTORY %s vs pinpipe table history %s" % (kind, sh, ours))
    ops = set(sh.values())
    check({"CREATE TABLE", "STREAMING UPDATE", "OPTIMIZE"} <= ops, "%s: operations %s" % (kind, ops))


def streaming_tables(spark, tmp):
    db = "sqlite://" + os.path.join(tmp, "source.db")
    pinpipe("seed", "--rows", "400", "--source", db)
    port = free_port()
    api = "http://127.0.0.1:%d" % port
    serve = subprocess.Popen([P, "--log-level", "warn", "serve", "--listen", "127.0.0.1:%d" % port,
                              "--data-dir", os.path.join(tmp, "serve")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    tables = os.path.join(tmp, "tables")
    try:
        wait_port(port, serve)
        # The batch path's records too (for the JSON lake, part 3).
        pinpipe("emulate", "--prefix", PREFIX, "--api", api, "--source", db, "--count", "200",
                "--batch-size", "10", "--max-retries", "0", "--max-index", "399")

        seeds = iter(range(101, 200))

        def round_(count):  # new posts (and some repeated ones) each round: a seed each
            pinpipe("emulate", "--mode", "stream", "--prefix", PREFIX, "--api", api, "--source", db,
                    "--count", str(count), "--batch-size", "5", "--max-retries", "0", "--seed",
                    str(next(seeds)), "--max-index", "399")
            pinpipe("stream", "--prefix", PREFIX, "--source", "kinesis", "--kinesis-endpoint", api,
                    "--tables", "file://" + tables, "--data-dir", os.path.join(tmp, "stream"), "--once")
        for _ in range(11):
            round_(15)
        paths = {k: os.path.join(tables, "%s_%s_table" % (PREFIX, k)) for k in TYPES}
        for k, p in paths.items():
            check(os.path.exists(os.path.join(p, "_delta_log", "%020d.checkpoint.parquet" % 10)),
                  "%s: no checkpoint at version 10 after the stream's commits" % k)
            compare_table(spark, p, k, "stream", filters=False)
            r = pinpipe("table", "optimize", p).stdout
            check("compacted" in r, "%s: optimize did nothing: %s" % (k, r))
            compare_table(spark, p, k, "optimize")
            r = pinpipe("table", "vacuum", "--retention-hours", "0", p).stdout
            check(re.search(r"deleted [1-9]\d* files", r) is not None, "%s: vacuum deleted nothing: %s" % (k, r))
            compare_table(spark, p, k, "vacuum", filters=False)
            pinpipe("table", "checkpoint", p)
        round_(15)
        for k, p in paths.items():
            show = pinpipe("table", "show", p).stdout
            check("(checkpoint" in show, "%s: pinpipe does not start from the checkpoint: %s" % (k, show))
            compare_table(spark, p, k, "checkpoint+append")
            history_check(spark, p, k)
    finally:
        serve.terminate()
        serve.wait(30)
    # The REST records into the lake (part 3).
    sink = os.path.join(tmp, "sink.properties")
    open(sink, "w").write("name=readers\ntopics.regex=%s\\..*\nflush.size=50\n" % PREFIX)
    pinpipe("sink", "--config", sink, "--data-dir", os.path.join(tmp, "serve"), "--store",
            "file://" + os.path.join(tmp, "lake"), "--once")


def refused(path, *words):
    r = pinpipe("table", "show", path, ok=False)
    err = r.stderr.strip()
    return r.returncode != 0 and all(w in err for w in words) and "pinpipe: error:" in err, err


def spark_tables(spark, tmp):
    base = os.path.join(tmp, "spark")
    df = spark.sql("SELECT id AS ind, concat('c', id % 7) AS country, array(id / 10, -id / 20) AS coordinates, "
                   "timestamp_micros(1600000000000000 + id * 1000001) AS timestamp FROM range(0, 300)")

    def same(path, what):
        show = pinpipe("table", "show", path, ok=False)
        if not check(show.returncode == 0, "Spark table %s: pinpipe refused: %s" % (what, show.stderr.strip())):
            return
        v = int(re.search(r"^version:\s+(\d+)", show.stdout, re.M).group(1))
        n = int(re.search(r"^rows:\s+(\d+)", show.stdout, re.M).group(1))
        sv = spark.sql("DESCRIBE HISTORY delta.`%s` LIMIT 1" % path).collect()[0]["version"]
        sn = spark.read.format("delta").load(path).count()
        check((v, n) == (sv, sn), "Spark table %s: pinpipe sees version %d with %d rows, Spark %d with %d"
              % (what, v, n, sv, sn))

    p = os.path.join(base, "geo")
    df.where("ind < 100").write.format("delta").option("delta.checkpointInterval", "2").save(p)
    same(p, "create")
    df.where("ind >= 100").write.format("delta").mode("append").save(p)
    same(p, "append (checkpoint 2)")
    df.where("ind < 50").write.format("delta").mode("overwrite").save(p)
    same(p, "overwrite")
    df.where("ind >= 200").write.format("delta").mode("append").save(p)
    spark.sql("DELETE FROM delta.`%s` WHERE ind < 20 OR ind > 280" % p)
    same(p, "delete (checkpoint 4)")
    check(os.path.exists(os.path.join(p, "_delta_log", "%020d.checkpoint.parquet" % 4)), "Spark made no checkpoint 4")
    # pinpipe appends to a Spark table; Spark reads them.
    p = os.path.join(base, "shared")
    spark.sql("SELECT id AS ind, 'spark' AS writer FROM range(10)").write.format("delta").save(p)
    spark_env.run([os.path.join(spark_env.BUILD, "tests", "table", "delta_append_helper"), p, "7", "5"])
    rows = spark.read.format("delta").load(p).where("writer = 'pinpipe-7'").count()
    check(rows == 5, "Spark reads %d of pinpipe's 5 appends to its table" % rows)
    same(p, "with pinpipe's appends")
    # Features pinpipe does not support: refused by name.
    p = os.path.join(base, "dv")
    df.write.format("delta").option("delta.enableDeletionVectors", "true").save(p)
    spark.sql("DELETE FROM delta.`%s` WHERE ind < 10" % p)
    ok, err = refused(p, "deletionVectors")
    check(ok, "deletion vectors: %s" % err)
    p = os.path.join(base, "cm")
    spark.sql("CREATE TABLE delta.`%s` (ind long, x string) USING delta "
              "TBLPROPERTIES ('delta.columnMapping.mode' = 'name')" % p)
    ok, err = refused(p, "columnMapping")
    check(ok, "column mapping: %s" % err)
    p = os.path.join(base, "part")
    df.write.format("delta").partitionBy("country").save(p)
    ok, err = refused(p, "partitioned", "country")
    check(ok, "partitions: %s" % err)
    p = os.path.join(base, "ntz")
    spark.sql("SELECT id AS ind, CAST(timestamp_micros(id) AS timestamp_ntz) AS t FROM range(3)") \
        .write.format("delta").save(p)
    ok, err = refused(p, "timestamp_ntz")
    check(ok, "timestamp_ntz: %s" % err)
    import pinpipe_clean as pc
    p = os.path.join(base, "rejects")
    spark.createDataFrame([("k", 1, "bad", False, bytearray(b"{")),], pc.reject_schema()) \
        .write.format("delta").save(p)
    ok, err = refused(p, "column record has type binary")
    check(ok, "deploy/spark's rejects table: %s" % err)
    p = os.path.join(base, "cdf")
    spark.sql("CREATE TABLE delta.`%s` (ind long, writer string) USING delta "
              "TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')" % p)
    check(pinpipe("table", "show", p, ok=False).returncode == 0, "change data feed: pinpipe cannot read it")
    r = subprocess.run([os.path.join(spark_env.BUILD, "tests", "table", "delta_append_helper"), p, "8", "1"],
                       capture_output=True, text=True)
    check(r.returncode != 0 and "changeDataFeed" in r.stderr, "change data feed: the append was not "
          "refused by name: %s" % r.stderr.strip())


# spec/data.md's types of the records the emulator sends (docs/formats/lake-json.md).
LAKE_SCHEMA = {
    "pin": [("index", "int"), ("unique_id", "string"), ("title", "string"), ("description", "string"),
            ("poster_name", "string"), ("follower_count", "string"), ("tag_list", "string"),
            ("is_image_or_video", "string"), ("image_src", "string"), ("downloaded", "int"),
            ("save_location", "string"), ("category", "string")],
    "geo": [("ind", "int"), ("timestamp", "timestamp"), ("latitude", "double"), ("longitude", "double"),
            ("country", "string")],
    "user": [("ind", "int"), ("first_name", "string"), ("last_name", "string"), ("age", "int"),
             ("date_joined", "timestamp")],
}


def python_value(t, v):
    if v is None:
        return None
    if t == "timestamp":
        d = datetime.datetime.strptime(v.replace("T", " "), "%Y-%m-%d %H:%M:%S")
        return int(d.replace(tzinfo=datetime.timezone.utc).timestamp()) * 1000000
    if t == "double":
        return float(v)
    return v


def json_lake(spark, folders, what):
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    st = {"int": T.IntegerType(), "string": T.StringType(), "double": T.DoubleType(),
          "timestamp": T.TimestampType()}
    for kind, files in folders.items():
        fields = LAKE_SCHEMA[kind]
        schema = T.StructType([T.StructField(n, st[t], True) for n, t in fields])
        df = (spark.read.schema(schema).option("mode", "FAILFAST")
              .option("timestampFormat", "yyyy-MM-dd[' ']['T']HH:mm:ss").json(files))
        try:
            got = sorted(tuple(r) for r in df.select(*[F.unix_micros(n).alias(n) if t == "timestamp" else n
                                                       for n, t in fields]).collect())
        except Exception as e:  # FAILFAST: a record that does not fit the schema
            check(False, "%s %s: Spark rejects a record under spec/data.md's schema: %s" % (what, kind, str(e)[:300]))
            continue
        want = []
        for f in files:
            for line in open(f):
                j = json.loads(line)
                check(set(j) == set(n for n, _ in fields), "%s %s: record fields %s" % (what, kind, sorted(j)))
                want.append(tuple(python_value(t, j.get(n)) for n, t in fields))
        want.sort()
        check(len(got) > 0 and got == want, "%s %s: Spark reads %d records, Python %d; e.g. %s" % (
            what, kind, len(got), len(want), sorted(set(got) ^ set(want))[:2]))


def main():
    spark_env.need_binary(P)
    spark_env.need_binary(os.path.join(spark_env.BUILD, "tests", "table", "delta_append_helper"))
    tmp = tempfile.mkdtemp(prefix="pinpipe-readers-")
    t0 = time.time()
    try:
        spark = spark_env.spark()
        print("Spark session in %.1f s" % (time.time() - t0), flush=True)
        t = time.time()
        streaming_tables(spark, tmp)
        print("streaming tables: %.1f s" % (time.time() - t), flush=True)
        t = time.time()
        spark_tables(spark, tmp)
        print("Spark's tables: %.1f s" % (time.time() - t), flush=True)
        t = time.time()
        lake = {}
        for kind in TYPES:
            top = os.path.join(tmp, "lake", "topics", "%s.%s" % (PREFIX, kind))
            lake[kind] = sorted(os.path.join(d, f) for d, _, fs in os.walk(top) for f in fs if f.endswith(".json"))
            check(len(lake[kind]) > 0, "the sink wrote no objects for %s" % kind)
        json_lake(spark, lake, "REST lake")
        fixture = os.path.join(spark_env.ROOT, "tests", "fixtures", "original-sample")
        json_lake(spark, {k: [os.path.join(fixture, k + ".jsonl")] for k in TYPES}, "original sample")
        print("JSON lakes: %.1f s" % (time.time() - t), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks in %.1f s: %d passed, %d failed" % (checks, time.time() - t0, checks - len(bad), len(bad)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
