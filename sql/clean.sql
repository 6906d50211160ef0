-- pinpipe: the cleaning rules (spec/cleaning.md) as DuckDB views over the sink's
-- JSON Lines objects, for running the batch questions on DuckDB (or porting to
-- Spark SQL). The same rules as pinpipe's own engine; tests compare both.
--
-- Usage (DuckDB CLI; lake is a folder, or s3://bucket/prefix with httpfs):
--   SET VARIABLE lake = '/data/lake';
--   SET VARIABLE prefix = '0a60b9a8a831';
--   .read sql/clean.sql
--   .read sql/q1.sql
--
-- Views: pin_clean, geo_clean, user_clean (one row per ind, first arrival
-- wins: objects in key order, lines in order), and rejects (table, source,
-- position, reason, row_kept) for records that cannot be cleaned.
SET TimeZone = 'UTC';

-- Text column: objects/arrays and empty strings are not text (nulls).
CREATE OR REPLACE MACRO pp_text(val, typ) AS
  CASE WHEN typ IN ('OBJECT', 'ARRAY') OR val = '' THEN NULL ELSE val END;

-- An integer field is fine when missing/null, or an integer (number or string).
CREATE OR REPLACE MACRO pp_int_ok(val, typ) AS
  typ IS NULL OR typ = 'NULL' OR
  (typ IN ('VARCHAR', 'BIGINT', 'UBIGINT') AND regexp_full_match(val, '-?[0-9]+') AND
   TRY_CAST(val AS BIGINT) IS NOT NULL);

CREATE OR REPLACE MACRO pp_double_ok(val, typ) AS
  typ IS NULL OR typ = 'NULL' OR
  (typ IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE') AND
   regexp_full_match(val, '-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?') AND
   isfinite(TRY_CAST(val AS DOUBLE)));

-- `YYYY-MM-DD[ T]HH:MM:SS[.f][Z|+HH:MM]` to a UTC TIMESTAMP; NULL when invalid.
CREATE OR REPLACE MACRO pp_ts(val) AS
  CASE WHEN regexp_full_match(val, '[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?')
       THEN TRY_CAST(val AS TIMESTAMPTZ)::TIMESTAMP END;

-- A timestamp field is fine when missing/null/empty, or a string that parses.
CREATE OR REPLACE MACRO pp_ts_ok(val, typ) AS
  typ IS NULL OR typ = 'NULL' OR (typ = 'VARCHAR' AND (val = '' OR pp_ts(val) IS NOT NULL));

-- `437` -> 437, `5k` -> 5000, `1M` -> 1000000; anything else NULL.
CREATE OR REPLACE MACRO pp_followers(val) AS
  CASE WHEN regexp_full_match(val, '[0-9]+') THEN TRY_CAST(val AS BIGINT)
       WHEN regexp_full_match(val, '[0-9]+k')
         THEN TRY_CAST(TRY_CAST(left(val, length(val) - 1) AS HUGEINT) * 1000 AS BIGINT)
       WHEN regexp_full_match(val, '[0-9]+M')
         THEN TRY_CAST(TRY_CAST(left(val, length(val) - 1) AS HUGEINT) * 1000000 AS BIGINT)
  END;

CREATE OR REPLACE MACRO age_group(age) AS
  CASE WHEN age BETWEEN 18 AND 24 THEN '18-24' WHEN age BETWEEN 25 AND 35 THEN '25-35'
       WHEN age BETWEEN 36 AND 50 THEN '36-50' WHEN age >= 51 THEN '+50' END;

-- Every line of every object of a topic, with its source and arrival order.
CREATE OR REPLACE MACRO pp_lines(kind) AS TABLE
  SELECT filename AS source, ordinality AS pos, json
  FROM read_json(getvariable('lake') || '/topics/' || getvariable('prefix') || '.' || kind ||
                 '/**/*.json*',
                 format = 'newline_delimited', records = false, columns = {'json': 'JSON'},
                 filename = true, ignore_errors = true, hive_partitioning = false)
       WITH ORDINALITY;

CREATE OR REPLACE VIEW pin_checked AS
WITH raw AS (
  SELECT source, pos, json, json_type(json) AS doc,
         json_extract_string(json, ['$.index', '$.unique_id', '$.title', '$.description',
           '$.poster_name', '$.follower_count', '$.tag_list', '$.is_image_or_video',
           '$.image_src', '$.downloaded', '$.save_location', '$.category']) AS v,
         json_type(json, ['$.index', '$.unique_id', '$.title', '$.description',
           '$.poster_name', '$.follower_count', '$.tag_list', '$.is_image_or_video',
           '$.image_src', '$.downloaded', '$.save_location', '$.category']) AS t
  FROM pp_lines('pin')
)
SELECT source, pos, json,
  CASE
    WHEN doc IS DISTINCT FROM 'OBJECT' THEN 'not a JSON object'
    WHEN t[1] IS NULL OR t[1] = 'NULL' THEN 'missing field ''index'''
    WHEN NOT pp_int_ok(v[1], t[1]) THEN 'field ''index'' is not an integer'
    WHEN NOT pp_int_ok(v[10], t[10]) THEN 'field ''downloaded'' is not an integer'
    WHEN list_has_any([t[2], t[3], t[4], t[5], t[7], t[8], t[9], t[11], t[12]],
                      ['OBJECT', 'ARRAY']) THEN 'a text field is an object or array'
  END AS reject_reason,
  TRY_CAST(v[1] AS BIGINT) AS ind,
  pp_text(v[2], t[2]) AS unique_id,
  nullif(pp_text(v[3], t[3]), 'No Title Data Available') AS title,
  CASE WHEN pp_text(v[4], t[4]) IN ('No description available Story format',
                                    'No description available') THEN NULL
       ELSE pp_text(v[4], t[4]) END AS description,
  CASE WHEN t[6] IS NULL OR t[6] = 'NULL' OR v[6] IN ('', 'User Info Error') THEN NULL
       WHEN t[6] IN ('OBJECT', 'ARRAY', 'BOOLEAN') THEN NULL
       ELSE pp_followers(v[6]) END AS follower_count,
  -- a value that is neither a placeholder nor a count: a field-level rejection
  NOT (t[6] IS NULL OR t[6] = 'NULL' OR v[6] IN ('', 'User Info Error')) AND
    (t[6] IN ('OBJECT', 'ARRAY', 'BOOLEAN') OR pp_followers(v[6]) IS NULL)
    AS follower_count_rejected,
  nullif(pp_text(v[5], t[5]), 'User Info Error') AS poster_name,
  nullif(pp_text(v[7], t[7]), 'N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e') AS tag_list,
  pp_text(v[8], t[8]) AS is_image_or_video,
  nullif(pp_text(v[9], t[9]), 'Image src error.') AS image_src,
  nullif(CASE WHEN starts_with(pp_text(v[11], t[11]), 'Local save in ')
              THEN substr(pp_text(v[11], t[11]), 15) ELSE pp_text(v[11], t[11]) END, '')
    AS save_location,
  pp_text(v[12], t[12]) AS category
FROM raw;

CREATE OR REPLACE VIEW pin_clean AS
SELECT ind, unique_id, title, description, follower_count, poster_name, tag_list,
       is_image_or_video, image_src, save_location, category
FROM pin_checked
WHERE reject_reason IS NULL
QUALIFY row_number() OVER (PARTITION BY ind ORDER BY source, pos) = 1;

CREATE OR REPLACE VIEW geo_checked AS
WITH raw AS (
  SELECT source, pos, json, json_type(json) AS doc,
         json_extract_string(json, ['$.ind', '$.timestamp', '$.latitude', '$.longitude',
                                    '$.country']) AS v,
         json_type(json, ['$.ind', '$.timestamp', '$.latitude', '$.longitude', '$.country']) AS t
  FROM pp_lines('geo')
)
SELECT source, pos, json,
  CASE
    WHEN doc IS DISTINCT FROM 'OBJECT' THEN 'not a JSON object'
    WHEN t[1] IS NULL OR t[1] = 'NULL' THEN 'missing field ''ind'''
    WHEN NOT pp_int_ok(v[1], t[1]) THEN 'field ''ind'' is not an integer'
    WHEN t[5] IN ('OBJECT', 'ARRAY') THEN 'field ''country'' is an object or array'
    WHEN NOT pp_double_ok(v[3], t[3]) THEN 'field ''latitude'' is not a number'
    WHEN NOT pp_double_ok(v[4], t[4]) THEN 'field ''longitude'' is not a number'
    WHEN NOT pp_ts_ok(v[2], t[2]) THEN 'field ''timestamp'' is not a timestamp'
  END AS reject_reason,
  TRY_CAST(v[1] AS BIGINT) AS ind,
  pp_text(v[5], t[5]) AS country,
  CASE WHEN (t[3] IS NULL OR t[3] = 'NULL') AND (t[4] IS NULL OR t[4] = 'NULL') THEN NULL
       ELSE [TRY_CAST(v[3] AS DOUBLE), TRY_CAST(v[4] AS DOUBLE)] END AS coordinates,
  pp_ts(v[2]) AS "timestamp"
FROM raw;

CREATE OR REPLACE VIEW geo_clean AS
SELECT ind, country, coordinates, "timestamp"
FROM geo_checked
WHERE reject_reason IS NULL
QUALIFY row_number() OVER (PARTITION BY ind ORDER BY source, pos) = 1;

CREATE OR REPLACE VIEW user_checked AS
WITH raw AS (
  SELECT source, pos, json, json_type(json) AS doc,
         json_extract_string(json, ['$.ind', '$.first_name', '$.last_name', '$.age',
                                    '$.date_joined']) AS v,
         json_type(json, ['$.ind', '$.first_name', '$.last_name', '$.age', '$.date_joined']) AS t
  FROM pp_lines('user')
)
SELECT source, pos, json,
  CASE
    WHEN doc IS DISTINCT FROM 'OBJECT' THEN 'not a JSON object'
    WHEN t[1] IS NULL OR t[1] = 'NULL' THEN 'missing field ''ind'''
    WHEN NOT pp_int_ok(v[1], t[1]) THEN 'field ''ind'' is not an integer'
    WHEN list_has_any([t[2], t[3]], ['OBJECT', 'ARRAY']) THEN 'a name field is an object or array'
    WHEN NOT pp_int_ok(v[4], t[4]) THEN 'field ''age'' is not an integer'
    WHEN NOT pp_ts_ok(v[5], t[5]) THEN 'field ''date_joined'' is not a timestamp'
  END AS reject_reason,
  TRY_CAST(v[1] AS BIGINT) AS ind,
  CASE WHEN pp_text(v[2], t[2]) IS NULL THEN pp_text(v[3], t[3])
       WHEN pp_text(v[3], t[3]) IS NULL THEN pp_text(v[2], t[2])
       ELSE v[2] || ' ' || v[3] END AS user_name,
  TRY_CAST(v[4] AS BIGINT) AS age,
  pp_ts(v[5]) AS date_joined
FROM raw;

CREATE OR REPLACE VIEW user_clean AS
SELECT ind, user_name, age, date_joined
FROM user_checked
WHERE reject_reason IS NULL
QUALIFY row_number() OVER (PARTITION BY ind ORDER BY source, pos) = 1;

CREATE OR REPLACE VIEW rejects AS
SELECT 'pin' AS "table", source, pos AS position, reject_reason AS reason, false AS row_kept, json
  FROM pin_checked WHERE reject_reason IS NOT NULL
UNION ALL
SELECT 'pin', source, pos, 'field ''follower_count'' is not a follower count', true, json
  FROM pin_checked WHERE reject_reason IS NULL AND follower_count_rejected
UNION ALL
SELECT 'geo', source, pos, reject_reason, false, json FROM geo_checked WHERE reject_reason IS NOT NULL
UNION ALL
SELECT 'user', source, pos, reject_reason, false, json FROM user_checked WHERE reject_reason IS NOT NULL;
