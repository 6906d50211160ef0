-- q3b: the country whose top user has the most followers; one row (ties: country ascending).
WITH top_user AS (
  SELECT g.country, p.poster_name, p.follower_count
  FROM pin_clean p JOIN geo_clean g ON p.ind = g.ind
  WHERE g.country IS NOT NULL AND p.poster_name IS NOT NULL AND p.follower_count IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY g.country
                             ORDER BY p.follower_count DESC, p.poster_name) = 1
)
SELECT country, follower_count
FROM top_user
ORDER BY follower_count DESC, country
LIMIT 1;
