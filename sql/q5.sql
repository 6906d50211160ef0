-- q5: the median (lower median) follower count per age group (pin x user).
SELECT age_group(u.age) AS age_group,
       quantile_disc(p.follower_count, 0.5) AS median_follower_count
FROM pin_clean p JOIN user_clean u ON p.ind = u.ind
WHERE age_group(u.age) IS NOT NULL AND p.follower_count IS NOT NULL
GROUP BY age_group(u.age)
ORDER BY age_group;
