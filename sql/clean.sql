-- pinpipe: the cleaning rules (spec/cleaning.md) as DuckDB views over the sink's
-- JSON Lines objects, for running the batch questions on DuckDB (or porting to
-- Spark SQL). The same rules as pinpipe's own engine; tests compare both.
--
-- Usage (DuckDB CLI; lake is a folder, or s3://bucket/prefix with httpfs):
--   SET VARIABLE lake = '/data/lake';
--   SET VARIABLE prefix = '0a60b9a8a831';
--   .read sql/clean.sql
--   CREATE TEMP TABLE pin AS FROM pin_clean;   -- optional: read each topic once
--   .read sql/q1.sql
--
-- Views: pin_clean, geo_clean, user_clean (one row per ind, first arrival
-- wins: objects in key order, lines in order), and rejects (table, source,
-- position, reason, row_kept) for records that cannot be cleaned.
--
-- How it reads: one read_json per topic over the glob of its objects, with
-- explicit columns (no schema sampling) and format 'newline_delimited'. Fields
-- whose JSON kind matters (a text field sent as an object or array rejects the
-- record) are read as JSON and unquoted here; the others as VARCHAR, which
-- DuckDB fills with a string's text or a number's/boolean's token. A line that
-- is not a JSON object reads as a row of NULLs: rejected with the missing key.
SET TimeZone = 'UTC';

-- A text field read as JSON: NULL for null/missing/empty, the string's text,
-- or a number's/boolean's token. pp_composite tells an object or array.
CREATE OR REPLACE MACRO pp_str(j) AS
  CASE WHEN j IS NULL THEN NULL
       WHEN starts_with(j, '"') THEN
         nullif(CASE WHEN contains(j, '\') THEN j ->> '$' ELSE j[2:-2] END, '')
       WHEN starts_with(j, '{') OR starts_with(j, '[') THEN NULL
       ELSE j::VARCHAR END;
CREATE OR REPLACE MACRO pp_composite(j) AS starts_with(j, '{') OR starts_with(j, '[');

-- An integer field (VARCHAR) is fine when missing/null, or an integer (number
-- or string) in 64 bits.
CREATE OR REPLACE MACRO pp_int_ok(val) AS
  val IS NULL OR (regexp_full_match(val, '-?[0-9]+') AND TRY_CAST(val AS BIGINT) IS NOT NULL);

CREATE OR REPLACE MACRO pp_double_ok(val) AS
  val IS NULL OR
  (regexp_full_match(val, '-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?') AND
   isfinite(TRY_CAST(val AS DOUBLE)));

-- `YYYY-MM-DD[ T]HH:MM:SS[.f][Z|+HH:MM]` to a UTC TIMESTAMP; NULL when invalid.
CREATE OR REPLACE MACRO pp_ts(val) AS
  CASE WHEN regexp_full_match(val, '[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?')
       THEN TRY_CAST(val AS TIMESTAMPTZ)::TIMESTAMP END;

-- A timestamp field is fine when missing/null/empty, or a string that parses
-- (a number or boolean never does).
CREATE OR REPLACE MACRO pp_ts_ok(val) AS val IS NULL OR val = '' OR pp_ts(val) IS NOT NULL;

-- `437` -> 437, `5k` -> 5000, `1M` -> 1000000; anything else NULL.
CREATE OR REPLACE MACRO pp_followers(val) AS
  CASE WHEN regexp_full_match(val, '[0-9]+[kM]?') THEN
    CASE right(val, 1)
      WHEN 'k' THEN TRY_CAST(TRY_CAST(val[:-2] AS HUGEINT) * 1000 AS BIGINT)
      WHEN 'M' THEN TRY_CAST(TRY_CAST(val[:-2] AS HUGEINT) * 1000000 AS BIGINT)
      ELSE TRY_CAST(val AS BIGINT) END
  END;

CREATE OR REPLACE MACRO age_group(age) AS
  CASE WHEN age BETWEEN 18 AND 24 THEN '18-24' WHEN age BETWEEN 25 AND 35 THEN '25-35'
       WHEN age BETWEEN 36 AND 50 THEN '36-50' WHEN age >= 51 THEN '+50' END;

-- The objects of one topic.
CREATE OR REPLACE MACRO pp_glob(kind) AS
  getvariable('lake') || '/topics/' || getvariable('prefix') || '.' || kind || '/**/*.json*';

CREATE OR REPLACE VIEW pin_checked AS
WITH raw AS (
  SELECT filename AS source, ordinality AS pos, *
  FROM read_json(pp_glob('pin'), format = 'newline_delimited', filename = true,
                 ignore_errors = true, hive_partitioning = false, union_by_name = false,
                 columns = {'index': 'VARCHAR', 'unique_id': 'JSON', 'title': 'JSON',
                            'description': 'JSON', 'poster_name': 'JSON',
                            'follower_count': 'VARCHAR', 'tag_list': 'JSON',
                            'is_image_or_video': 'JSON', 'image_src': 'JSON',
                            'downloaded': 'VARCHAR', 'save_location': 'JSON',
                            'category': 'JSON'})
       WITH ORDINALITY
), txt AS (
  SELECT source, pos, "index", downloaded, follower_count AS fc,
         pp_composite(unique_id) OR pp_composite(title) OR pp_composite(description) OR
           pp_composite(poster_name) OR pp_composite(tag_list) OR
           pp_composite(is_image_or_video) OR pp_composite(image_src) OR
           pp_composite(save_location) OR pp_composite(category) AS composite,
         pp_str(unique_id) AS unique_id, pp_str(title) AS title,
         pp_str(description) AS description, pp_str(poster_name) AS poster_name,
         pp_str(tag_list) AS tag_list, pp_str(is_image_or_video) AS is_image_or_video,
         pp_str(image_src) AS image_src, pp_str(save_location) AS save_location,
         pp_str(category) AS category,
         fc IS NOT NULL AND fc NOT IN ('', 'User Info Error') AS fc_given
  FROM raw
)
SELECT source, pos,
  CASE
    WHEN "index" IS NULL THEN 'missing field ''index'' (or not a JSON object)'
    WHEN NOT pp_int_ok("index") THEN 'field ''index'' is not an integer'
    WHEN NOT pp_int_ok(downloaded) THEN 'field ''downloaded'' is not an integer'
    WHEN composite THEN 'a text field is an object or array'
  END AS reject_reason,
  TRY_CAST("index" AS BIGINT) AS ind,
  unique_id,
  nullif(title, 'No Title Data Available') AS title,
  CASE WHEN description IN ('No description available Story format',
                            'No description available') THEN NULL
       ELSE description END AS description,
  CASE WHEN fc_given THEN pp_followers(fc) END AS follower_count,
  -- a value that is neither a placeholder nor a count: a field-level rejection
  fc_given AND pp_followers(fc) IS NULL AS follower_count_rejected,
  nullif(poster_name, 'User Info Error') AS poster_name,
  nullif(tag_list, 'N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e') AS tag_list,
  is_image_or_video,
  nullif(image_src, 'Image src error.') AS image_src,
  nullif(CASE WHEN starts_with(save_location, 'Local save in ') THEN save_location[15:]
              ELSE save_location END, '') AS save_location,
  category
FROM txt;

-- First arrival wins: the row that sorts first per ind (a window: DuckDB's
-- DISTINCT ON ... ORDER BY takes 1.6x the CPU and 3x the memory here).
CREATE OR REPLACE VIEW pin_clean AS
SELECT ind, unique_id, title, description, follower_count, poster_name,
       tag_list, is_image_or_video, image_src, save_location, category
FROM pin_checked
WHERE reject_reason IS NULL
QUALIFY row_number() OVER (PARTITION BY ind ORDER BY source, pos) = 1;

CREATE OR REPLACE VIEW geo_checked AS
WITH raw AS (
  SELECT filename AS source, ordinality AS pos, *
  FROM read_json(pp_glob('geo'), format = 'newline_delimited', filename = true,
                 ignore_errors = true, hive_partitioning = false, union_by_name = false,
                 columns = {'ind': 'VARCHAR', 'timestamp': 'VARCHAR', 'latitude': 'VARCHAR',
                            'longitude': 'VARCHAR', 'country': 'JSON'})
       WITH ORDINALITY
)
SELECT source, pos,
  CASE
    WHEN ind IS NULL THEN 'missing field ''ind'' (or not a JSON object)'
    WHEN NOT pp_int_ok(ind) THEN 'field ''ind'' is not an integer'
    WHEN pp_composite(country) THEN 'field ''country'' is an object or array'
    WHEN NOT pp_double_ok(latitude) THEN 'field ''latitude'' is not a number'
    WHEN NOT pp_double_ok(longitude) THEN 'field ''longitude'' is not a number'
    WHEN NOT pp_ts_ok("timestamp") THEN 'field ''timestamp'' is not a timestamp'
  END AS reject_reason,
  TRY_CAST(ind AS BIGINT) AS ind,
  pp_str(country) AS country,
  CASE WHEN latitude IS NULL AND longitude IS NULL THEN NULL
       ELSE [TRY_CAST(latitude AS DOUBLE), TRY_CAST(longitude AS DOUBLE)] END AS coordinates,
  pp_ts("timestamp") AS "timestamp"
FROM raw;

CREATE OR REPLACE VIEW geo_clean AS
SELECT ind, country, coordinates, "timestamp"
FROM geo_checked
WHERE reject_reason IS NULL
QUALIFY row_number() OVER (PARTITION BY ind ORDER BY source, pos) = 1;

CREATE OR REPLACE VIEW user_checked AS
WITH raw AS (
  SELECT filename AS source, ordinality AS pos, *
  FROM read_json(pp_glob('user'), format = 'newline_delimited', filename = true,
                 ignore_errors = true, hive_partitioning = false, union_by_name = false,
                 columns = {'ind': 'VARCHAR', 'first_name': 'JSON', 'last_name': 'JSON',
                            'age': 'VARCHAR', 'date_joined': 'VARCHAR'})
       WITH ORDINALITY
)
SELECT source, pos,
  CASE
    WHEN ind IS NULL THEN 'missing field ''ind'' (or not a JSON object)'
    WHEN NOT pp_int_ok(ind) THEN 'field ''ind'' is not an integer'
    WHEN pp_composite(first_name) OR pp_composite(last_name)
      THEN 'a name field is an object or array'
    WHEN NOT pp_int_ok(age) THEN 'field ''age'' is not an integer'
    WHEN NOT pp_ts_ok(date_joined) THEN 'field ''date_joined'' is not a timestamp'
  END AS reject_reason,
  TRY_CAST(ind AS BIGINT) AS ind,
  nullif(concat_ws(' ', pp_str(first_name), pp_str(last_name)), '') AS user_name,
  -- an integer column: a value outside 32 bits is NULL, as in pinpipe's tables
  TRY_CAST(age AS INTEGER) AS age,
  pp_ts(date_joined) AS date_joined
FROM raw;

CREATE OR REPLACE VIEW user_clean AS
SELECT ind, user_name, age, date_joined
FROM user_checked
WHERE reject_reason IS NULL
QUALIFY row_number() OVER (PARTITION BY ind ORDER BY source, pos) = 1;

CREATE OR REPLACE VIEW rejects AS
SELECT 'pin' AS "table", source, pos AS position, reject_reason AS reason, false AS row_kept
  FROM pin_checked WHERE reject_reason IS NOT NULL
UNION ALL
SELECT 'pin', source, pos, 'field ''follower_count'' is not a follower count', true
  FROM pin_checked WHERE reject_reason IS NULL AND follower_count_rejected
UNION ALL
SELECT 'geo', source, pos, reject_reason, false FROM geo_checked WHERE reject_reason IS NOT NULL
UNION ALL
SELECT 'user', source, pos, reject_reason, false FROM user_checked WHERE reject_reason IS NOT NULL;
