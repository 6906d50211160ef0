-- q3a: the user (poster_name) with the most followers in each country (pin x geo).
-- Only rows with both poster_name and follower_count; ties: poster_name ascending.
SELECT g.country, p.poster_name, p.follower_count
FROM pin_clean p JOIN geo_clean g ON p.ind = g.ind
WHERE g.country IS NOT NULL AND p.poster_name IS NOT NULL AND p.follower_count IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY g.country
                           ORDER BY p.follower_count DESC, p.poster_name) = 1
ORDER BY g.country;
