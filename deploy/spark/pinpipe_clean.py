"""The cleaning rules of spec/cleaning.md for Spark: one module that both
pinpipe_batch.py and pinpipe_stream.py use (the original pipeline copied its
cleaning between notebooks; this one is shared).

The record-level rules are plain Python, written to give exactly the results
of pinpipe's C++ cleaner (src/pinpipe/clean): the same accepted values, the
same null/placeholder handling and the same reject reasons, byte for byte.
They run inside Spark executors (mapPartitions), because the rules distinguish
how a JSON value was sent (a number, a string, a boolean) and Spark's JSON
reader does not keep that difference. The relational parts (first arrival
wins, the typed output tables) are Spark DataFrame operations.

Nothing here needs pinpipe itself: ship this file with --py-files (or next to
the job on Databricks).
"""

import gzip
import json
import zlib

# ---------------------------------------------------------------------------
# Table layouts (spec/cleaning.md "Output columns" and "Types in table formats")

TABLES = ("pin", "geo", "user")
KEY_FIELD = {"pin": "index", "geo": "ind", "user": "ind"}

PIN_COLUMNS = ("ind", "unique_id", "title", "description", "follower_count", "poster_name",
               "tag_list", "is_image_or_video", "image_src", "save_location", "category")
GEO_COLUMNS = ("ind", "country", "coordinates", "timestamp")
USER_COLUMNS = ("ind", "user_name", "age", "date_joined")
COLUMNS = {"pin": PIN_COLUMNS, "geo": GEO_COLUMNS, "user": USER_COLUMNS}

PLACEHOLDERS = {
    "title": ("No Title Data Available",),
    "description": ("No description available Story format", "No description available"),
    "poster_name": ("User Info Error",),
    "follower_count": ("User Info Error",),
    "tag_list": ("N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e",),
    "image_src": ("Image src error.",),
}

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


class Rejected(Exception):
    """A record rejected as a whole; the message is the reason."""


# ---------------------------------------------------------------------------
# JSON values, keeping how they were sent

MISSING, NULL, STRING, NUMBER, BOOL, COMPOSITE = range(6)
KIND_NAMES = {MISSING: "missing", NULL: "null", STRING: "a string", NUMBER: "a number",
              BOOL: "a boolean", COMPOSITE: "an object or array"}


class _Num(str):
    """A JSON number token as sent (the C++ cleaner keeps the token's text)."""


def _bad_constant(_):
    raise ValueError("not JSON")  # NaN, Infinity: not JSON numbers


_DECODER = json.JSONDecoder(parse_float=_Num, parse_int=_Num, parse_constant=_bad_constant)
_WS = " \t\n\r"


def _has_surrogate(s):
    return any(0xD800 <= ord(c) <= 0xDFFF for c in s)


def parse_object(line, names):
    """Parses one record (bytes) into {field: (kind, text)} for `names`.

    Like simdjson's on-demand parser: UTF-8 is validated, the first value must
    be an object, and what follows it is not looked at.
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected("not valid JSON")
    start = 0
    while start < len(text) and text[start] in _WS:
        start += 1
    try:
        value, _ = _DECODER.raw_decode(text, start)
    except (ValueError, RecursionError):
        raise Rejected("not valid JSON")
    if not isinstance(value, dict):
        raise Rejected("not a JSON object")
    out = {}
    for name in names:
        if name not in value:
            out[name] = (MISSING, "")
            continue
        v = value[name]
        if v is None:
            out[name] = (NULL, "")
        elif isinstance(v, _Num):
            out[name] = (NUMBER, str(v))
        elif isinstance(v, bool):
            out[name] = (BOOL, "true" if v else "false")
        elif isinstance(v, str):
            if _has_surrogate(v):
                raise Rejected("not valid JSON")
            out[name] = (STRING, v)
        else:
            out[name] = (COMPOSITE, "")
    for k in value:
        if _has_surrogate(k):
            raise Rejected("not valid JSON")
    return out


# ---------------------------------------------------------------------------
# Value rules (src/pinpipe/clean/rules.cc)

def _digits(s):
    return s != "" and all("0" <= c <= "9" for c in s)


def parse_integer(s):
    neg = s.startswith("-")
    body = s[1:] if neg else s
    if not _digits(body):
        return None
    v = -int(body) if neg else int(body)
    return v if INT64_MIN <= v <= INT64_MAX else None


def parse_follower_count(s):
    mult = 1
    if s.endswith("k"):
        mult, s = 1000, s[:-1]
    elif s.endswith("M"):
        mult, s = 1000000, s[:-1]
    if not _digits(s):
        return None
    v = int(s)
    if v > INT64_MAX or v > INT64_MAX // mult:
        return None
    return v * mult


def _is_double_token(s):
    # std::from_chars(general): optional '-', digits with an optional point, an
    # optional exponent; no '+', no spaces, no hex, no inf/nan.
    i, n = 0, len(s)
    if i < n and s[i] == "-":
        i += 1
    d0 = i
    while i < n and "0" <= s[i] <= "9":
        i += 1
    mant = i - d0
    if i < n and s[i] == ".":
        i += 1
        f0 = i
        while i < n and "0" <= s[i] <= "9":
            i += 1
        mant += i - f0
    if mant == 0:
        return False
    if i < n and s[i] in "eE":
        j = i + 1
        if j < n and s[j] in "+-":
            j += 1
        e0 = j
        while j < n and "0" <= s[j] <= "9":
            j += 1
        if j > e0:
            i = j
    return i == n


def parse_double(s):
    if not _is_double_token(s):
        return None
    v = float(s)
    if v != v or v in (float("inf"), float("-inf")):
        return None
    return v


_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in_month(y, m):
    leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
    return 29 if m == 2 and leap else _DAYS[m - 1]


def _days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _fixed(s, pos, n):
    part = s[pos:pos + n]
    if len(part) != n or not _digits(part):
        return None
    return int(part)


def parse_timestamp_micros(s):
    """`YYYY-MM-DD[ T]HH:MM:SS[.f{1,9}][Z|+HH:MM|-HH:MM]` -> UTC microseconds."""
    year = _fixed(s, 0, 4)
    if year is None or s[4:5] != "-":
        return None
    month = _fixed(s, 5, 2)
    if month is None or s[7:8] != "-":
        return None
    day = _fixed(s, 8, 2)
    if day is None or s[10:11] not in (" ", "T") or len(s) < 11:
        return None
    hour = _fixed(s, 11, 2)
    if hour is None or s[13:14] != ":":
        return None
    minute = _fixed(s, 14, 2)
    if minute is None or s[16:17] != ":":
        return None
    second = _fixed(s, 17, 2)
    if second is None:
        return None
    if not (1 <= month <= 12) or day < 1 or day > _days_in_month(year, month) or hour > 23 \
            or minute > 59 or second > 59:
        return None
    pos = 19
    micros = 0
    if pos < len(s) and s[pos] == ".":
        pos += 1
        f0 = pos
        while pos < len(s) and "0" <= s[pos] <= "9":
            pos += 1
        digits = pos - f0
        if digits == 0 or digits > 9:
            return None
        micros = int((s[f0:pos] + "000000")[:6])
    offset = 0
    if pos < len(s):
        c = s[pos]
        if c == "Z":
            pos += 1
        elif c in "+-":
            oh = _fixed(s, pos + 1, 2)
            if oh is None or s[pos + 3:pos + 4] != ":":
                return None
            om = _fixed(s, pos + 4, 2)
            if om is None or oh > 23 or om > 59:
                return None
            offset = (oh * 60 + om) * (-1 if c == "-" else 1)
            pos += 6
    if pos != len(s):
        return None
    secs = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second \
        - offset * 60
    return secs * 1000000 + micros


def save_location_path(v):
    prefix = "Local save in "
    return v[len(prefix):] if v.startswith(prefix) else v


# ---------------------------------------------------------------------------
# Field rules (src/pinpipe/clean/cleaner.cc)

def _shown(text):
    # The C++ reason shows the first 40 bytes of the value (possibly cutting a
    # UTF-8 sequence, which json_quote later renders as U+FFFD).
    return text.encode("utf-8")[:40].decode("utf-8", "surrogateescape")


def _wrong_kind(field, kind, wanted):
    return Rejected("field '%s' is %s, not %s" % (field, KIND_NAMES[kind], wanted))


def _not_a(field, text, wanted):
    return Rejected("field '%s' is not %s: \"%s\"" % (field, wanted, _shown(text)))


def text_field(field, val):
    kind, text = val
    if kind in (MISSING, NULL):
        return None
    if kind == COMPOSITE:
        raise _wrong_kind(field, kind, "text")
    if text == "" or text in PLACEHOLDERS.get(field, ()):
        return None
    return text


def int_field(field, val, required=False):
    kind, text = val
    if kind in (MISSING, NULL):
        if required:
            raise Rejected("missing field '%s'" % field)
        return None
    if kind in (STRING, NUMBER):
        v = parse_integer(text)
        if v is None:
            raise _not_a(field, text, "an integer")
        return v
    raise _wrong_kind(field, kind, "an integer")


def double_field(field, val):
    kind, text = val
    if kind in (MISSING, NULL):
        return None
    if kind in (STRING, NUMBER):
        v = parse_double(text)
        if v is None:
            raise _not_a(field, text, "a number")
        return v
    raise _wrong_kind(field, kind, "a number")


def timestamp_field(field, val):
    kind, text = val
    if kind in (MISSING, NULL):
        return None
    if kind == STRING:
        if text == "":
            return None
        v = parse_timestamp_micros(text)
        if v is None:
            raise _not_a(field, text, "a timestamp")
        return v
    raise _wrong_kind(field, kind, "a timestamp string")


_PIN_FIELDS = ("index", "unique_id", "title", "description", "poster_name", "follower_count",
               "tag_list", "is_image_or_video", "image_src", "downloaded", "save_location",
               "category")
_GEO_FIELDS = ("ind", "timestamp", "latitude", "longitude", "country")
_USER_FIELDS = ("ind", "first_name", "last_name", "age", "date_joined")

FOLLOWER_COUNT_REASON = "field 'follower_count' is not a follower count"


def clean_pin(line):
    """-> (row tuple in PIN_COLUMNS order, follower_count_rejected). Raises Rejected."""
    v = parse_object(line, _PIN_FIELDS)
    ind = int_field("index", v["index"], required=True)
    int_field("downloaded", v["downloaded"])
    unique_id = text_field("unique_id", v["unique_id"])
    title = text_field("title", v["title"])
    description = text_field("description", v["description"])
    poster_name = text_field("poster_name", v["poster_name"])
    tag_list = text_field("tag_list", v["tag_list"])
    kind = text_field("is_image_or_video", v["is_image_or_video"])
    image_src = text_field("image_src", v["image_src"])
    save_location = text_field("save_location", v["save_location"])
    if save_location is not None:
        save_location = save_location_path(save_location) or None
    category = text_field("category", v["category"])
    followers, fc_rejected = None, False
    fk, ft = v["follower_count"]
    if fk in (STRING, NUMBER):
        if ft != "" and ft not in PLACEHOLDERS["follower_count"]:
            followers = parse_follower_count(ft)
            fc_rejected = followers is None
    elif fk in (BOOL, COMPOSITE):
        fc_rejected = True
    return (ind, unique_id, title, description, followers, poster_name, tag_list, kind,
            image_src, save_location, category), fc_rejected


def clean_geo(line):
    v = parse_object(line, _GEO_FIELDS)
    ind = int_field("ind", v["ind"], required=True)
    country = text_field("country", v["country"])
    lat = double_field("latitude", v["latitude"])
    lon = double_field("longitude", v["longitude"])
    ts = timestamp_field("timestamp", v["timestamp"])
    coords = None if lat is None and lon is None else [lat, lon]
    return (ind, country, coords, ts), False


def clean_user(line):
    v = parse_object(line, _USER_FIELDS)
    ind = int_field("ind", v["ind"], required=True)
    first = text_field("first_name", v["first_name"])
    last = text_field("last_name", v["last_name"])
    parts = [p for p in (first, last) if p]
    user_name = " ".join(parts) if parts else None
    age = int_field("age", v["age"])
    joined = timestamp_field("date_joined", v["date_joined"])
    return (ind, user_name, age, joined), False


CLEANERS = {"pin": clean_pin, "geo": clean_geo, "user": clean_user}


# ---------------------------------------------------------------------------
# Records of one object, and rejects

def cut_record(line, limit=1000):
    """The record text in a reject: at most `limit` bytes, not splitting UTF-8."""
    cut = min(len(line), limit)
    while 0 < cut < len(line) and (line[cut] & 0xC0) == 0x80:
        cut -= 1
    return line[:cut]


def json_quote(data):
    """pinpipe's JsonQuote (src/pinpipe/batch/render.cc) on bytes or str."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    out = bytearray(b'"')
    i, n = 0, len(data)
    esc = {0x22: b'\\"', 0x5C: b"\\\\", 0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t"}
    while i < n:
        c = data[i]
        if c in esc:
            out += esc[c]
        elif c < 0x20:
            out += b"\\u%04x" % c
        elif c < 0x80:
            out.append(c)
        else:
            ln = 2 if c & 0xE0 == 0xC0 else 3 if c & 0xF0 == 0xE0 else 4 if c & 0xF8 == 0xF0 else 0
            ok = ln > 0 and i + ln <= n and all(data[i + k] & 0xC0 == 0x80 for k in range(1, ln))
            if ok:
                out += data[i:i + ln]
                i += ln
                continue
            out += b"\xef\xbf\xbd"
        i += 1
    out += b'"'
    return bytes(out)


def split_lines(content):
    """(1-based line number, bytes) of each line that is not blank (' ', '\\t', '\\r')."""
    pos, line_no, n = 0, 0, len(content)
    while pos < n:
        nl = content.find(b"\n", pos)
        end = n if nl < 0 else nl
        line_no += 1
        text = content[pos:end]
        if text.strip(b" \t\r"):
            yield line_no, text
        pos = end + 1


def decode_object(key, content):
    """The plain bytes of an object (`.json.gz` is gunzipped; members may be
    concatenated). Raises Rejected with pinpipe's reason when it cannot be read."""
    if not key.endswith(".gz"):
        return content
    out, data = [], content
    try:
        while data:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out.append(d.decompress(data))
            if not d.eof:
                raise Rejected("unreadable object: gzip data is truncated")
            data = d.unused_data
    except zlib.error:
        raise Rejected("unreadable object: gzip data is corrupt")
    return b"".join(out)


def clean_records(table, source, records):
    """Cleans (position, line bytes) records of `table` from `source`.

    Yields (kind, payload): ("row", (source, position, row)) for every kept row
    and ("reject", (source, position, reason, row_kept, record bytes)) for every
    reject, in input order.
    """
    clean = CLEANERS[table]
    for position, line in records:
        try:
            row, fc_rejected = clean(line)
        except Rejected as e:
            yield "reject", (source, position, str(e), False, cut_record(line))
            continue
        if fc_rejected:
            yield "reject", (source, position, FOLLOWER_COUNT_REASON, True, cut_record(line))
        yield "row", (source, position, row)


def clean_object(table, key, content):
    """All outputs of one lake object (see clean_records)."""
    try:
        plain = decode_object(key, content)
    except Rejected as e:
        yield "reject", (key, 0, str(e), False, b"")
        return
    yield from clean_records(table, key, split_lines(plain))


def reject_json(table, source, position, reason, row_kept, record):
    """One line of rejects.jsonl, exactly as `pinpipe batch --out` writes it."""
    return b"".join([
        b'{"table": ', json_quote(table), b', "source": ', json_quote(source),
        b', "position": ', str(position).encode(), b', "reason": ',
        json_quote(reason), b', "row_kept": ', b"true" if row_kept else b"false",
        b', "record": ', json_quote(record), b"}\n"])


# ---------------------------------------------------------------------------
# Spark side

def spark_schemas():
    """(internal, table) schemas per table. Internal rows carry the arrival
    order (_source, _position) and timestamps as microseconds; table schemas
    are spec/cleaning.md's."""
    from pyspark.sql import types as T
    L, S, D = T.LongType(), T.StringType(), T.DoubleType()
    internal = {
        "pin": [("ind", L), ("unique_id", S), ("title", S), ("description", S),
                ("follower_count", L), ("poster_name", S), ("tag_list", S),
                ("is_image_or_video", S), ("image_src", S), ("save_location", S),
                ("category", S)],
        "geo": [("ind", L), ("country", S), ("coordinates", T.ArrayType(D, True)),
                ("timestamp_us", L)],
        "user": [("ind", L), ("user_name", S), ("age", L), ("date_joined_us", L)],
    }
    arrival = [("_source", S), ("_position", L)]
    return {t: T.StructType([T.StructField(n, ty, True) for n, ty in arrival + cols])
            for t, cols in internal.items()}


REJECT_FIELDS = (("_source", "string"), ("_position", "long"), ("reason", "string"),
                 ("row_kept", "boolean"), ("record", "binary"))


def reject_schema():
    from pyspark.sql import types as T
    m = {"string": T.StringType(), "long": T.LongType(), "boolean": T.BooleanType(),
         "binary": T.BinaryType()}
    return T.StructType([T.StructField(n, m[t], True) for n, t in REJECT_FIELDS])


def to_table(df, table):
    """Internal rows -> the table's columns and types (spec/cleaning.md)."""
    from pyspark.sql import functions as F
    if table == "pin":
        return df.select(*PIN_COLUMNS)
    if table == "geo":
        return df.select("ind", "country", "coordinates",
                         F.timestamp_micros("timestamp_us").alias("timestamp"))
    # age is an integer column: a value outside 32 bits is null, as in pinpipe.
    age = F.when(F.col("age").between(INT32_MIN, INT32_MAX), F.col("age").cast("int"))
    return df.select("ind", "user_name", age.alias("age"),
                     F.timestamp_micros("date_joined_us").alias("date_joined"))


def first_arrival(df):
    """One row per ind: the first by arrival order (_arrival when the rows
    have it, then _source, then _position)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    order = (["_arrival"] if "_arrival" in df.columns else []) + ["_source", "_position"]
    w = Window.partitionBy("ind").orderBy(*order)
    return df.withColumn("_n", F.row_number().over(w)).where("_n = 1").drop("_n")


def _tagged(outputs, extra=()):
    """clean_object/clean_records outputs -> (0, internal row) | (1, reject row)."""
    for kind, payload in outputs:
        if kind == "row":
            source, position, row = payload
            yield (0, (source, position) + tuple(row) + extra)
        else:
            yield (1, payload)


def _frames(spark, schema, tagged_rdd):
    out = tagged_rdd.cache()
    rows = spark.createDataFrame(out.filter(lambda x: x[0] == 0).map(lambda x: x[1]), schema)
    rejects = spark.createDataFrame(out.filter(lambda x: x[0] == 1).map(lambda x: x[1]),
                                    reject_schema())
    return rows, rejects, out


def clean_dataframes(spark, table, objects_rdd):
    """objects_rdd: (key, content bytes) of one table's objects (a lake).
    -> (rows DataFrame (internal schema, duplicates kept), rejects DataFrame,
    the cached RDD behind both: unpersist it when done)."""
    def run(part):
        for key, content in part:
            yield from _tagged(clean_object(table, key, bytes(content)))
    return _frames(spark, spark_schemas()[table], objects_rdd.mapPartitions(run))


def clean_record_dataframes(spark, table, records_rdd):
    """records_rdd: (source, position, arrival ms, record bytes) of one table's
    records, one record per message (a topic: source "<topic>/<partition>",
    position the offset). Rows carry `_arrival` as well: first_arrival orders
    by arrival time, then source and position, as `pinpipe stream` does.
    -> as clean_dataframes."""
    from pyspark.sql import types as T

    def run(part):
        for source, position, arrival, data in part:
            line = bytes(data) if data is not None else b""
            yield from _tagged(clean_records(table, source, [(position, line)]), (arrival,))
    schema = T.StructType(spark_schemas()[table].fields +
                          [T.StructField("_arrival", T.LongType(), True)])
    return _frames(spark, schema, records_rdd.mapPartitions(run))
