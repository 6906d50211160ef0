-- q8: the median follower count by age group and joining year 2015..2020 (pin x user).
SELECT age_group(u.age) AS age_group, year(u.date_joined) AS post_year,
       quantile_disc(p.follower_count, 0.5) AS median_follower_count
FROM pin_clean p JOIN user_clean u ON p.ind = u.ind
WHERE age_group(u.age) IS NOT NULL AND year(u.date_joined) BETWEEN 2015 AND 2020
  AND p.follower_count IS NOT NULL
GROUP BY age_group(u.age), year(u.date_joined)
ORDER BY age_group, post_year;
