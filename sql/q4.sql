-- q4: the most popular category per age group (pin x user). Ages under 18 have no group.
WITH counts AS (
  SELECT age_group(u.age) AS age_group, p.category, count(*) AS category_count
  FROM pin_clean p JOIN user_clean u ON p.ind = u.ind
  WHERE age_group(u.age) IS NOT NULL AND p.category IS NOT NULL
  GROUP BY age_group(u.age), p.category
)
SELECT age_group, category, category_count
FROM counts
QUALIFY row_number() OVER (PARTITION BY age_group ORDER BY category_count DESC, category) = 1
ORDER BY age_group;
