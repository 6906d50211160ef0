-- q6: how many users joined in each year 2015..2020 (user rows; year of date_joined).
SELECT year(date_joined) AS post_year, count(*) AS number_users_joined
FROM user_clean
WHERE year(date_joined) BETWEEN 2015 AND 2020
GROUP BY year(date_joined)
ORDER BY post_year;
