-- Names for the pinyin index of the search box (query/pinyin.go): every
-- customer and rep whose name has Chinese characters. Only their ids leave
-- the index, and search.sql reads those through the user's scope.
SELECT customer_id AS id, customer_name AS name
FROM facts.customers
WHERE regexp_matches(customer_name, '\p{Han}')
UNION ALL
SELECT rep_id, name
FROM live.reps
WHERE regexp_matches(name, '\p{Han}')
