-- q7: the median follower count of users by joining year 2015..2020 (pin x user).
SELECT year(u.date_joined) AS post_year,
       quantile_disc(p.follower_count, 0.5) AS median_follower_count
FROM pin_clean p JOIN user_clean u ON p.ind = u.ind
WHERE year(u.date_joined) BETWEEN 2015 AND 2020 AND p.follower_count IS NOT NULL
GROUP BY year(u.date_joined)
ORDER BY post_year;
