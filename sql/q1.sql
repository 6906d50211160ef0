-- q1: the most popular category people post to, per country (pin x geo).
-- Ties: category ascending (byte order). Needs sql/clean.sql.
WITH counts AS (
  SELECT g.country, p.category, count(*) AS category_count
  FROM pin_clean p JOIN geo_clean g ON p.ind = g.ind
  WHERE g.country IS NOT NULL AND p.category IS NOT NULL
  GROUP BY g.country, p.category
)
SELECT country, category, category_count
FROM counts
QUALIFY row_number() OVER (PARTITION BY country ORDER BY category_count DESC, category) = 1
ORDER BY country;
