-- q2: the most popular category in each year 2018..2022 (year of geo.timestamp; pin x geo).
WITH counts AS (
  SELECT year(g."timestamp") AS post_year, p.category, count(*) AS category_count
  FROM pin_clean p JOIN geo_clean g ON p.ind = g.ind
  WHERE year(g."timestamp") BETWEEN 2018 AND 2022 AND p.category IS NOT NULL
  GROUP BY year(g."timestamp"), p.category
)
SELECT post_year, category, category_count
FROM counts
QUALIFY row_number() OVER (PARTITION BY post_year ORDER BY category_count DESC, category) = 1
ORDER BY post_year;
