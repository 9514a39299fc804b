-- The per-customer cache of the CLV model's purchase summaries
-- (models/clv.go, purchasesCache; models/cache.go):
-- model_cache.clv_purchases holds, for every customer with a purchase, the
-- first and last purchase day, the number of purchase days and the value
-- of all of them and of the first, and model_cache.clv_payment_customers
-- which payments it was computed from (a payment moved to another customer
-- changes both). No row depends on as_of when as_of is on or after every
-- payment (the default as-of date always is): T, the days from the first
-- purchase to as_of, is computed when they are read. Definitions as in
-- clv_summary.sql, which computes the same summaries directly.
{{if eq .Step "valid" -}}
SELECT coalesce(getvariable('as_of') >= (SELECT max(paid_on) FROM live.payments), true);
{{- else if eq .Step "keys" -}}
-- the customers of the payments a load after the cache's wrote (deleted
-- rows too), those a changed payment belonged to before, and those with a
-- payment a changed fx rate re-prices: the rows of its currency dated on or
-- after it (facts_delta_keys.sql)
CREATE OR REPLACE TEMP TABLE clv_purchases_keys AS
SELECT customer_id FROM main.payments WHERE _load_id > {{.Since}}
UNION SELECT customer_id FROM model_cache.clv_payment_customers
      WHERE payment_id IN (SELECT payment_id FROM main.payments WHERE _load_id > {{.Since}})
UNION SELECT p.customer_id FROM live.payments p
      JOIN (SELECT currency, min(on_date) AS since_on FROM main.fx_rates WHERE _load_id > {{.Since}} GROUP BY currency) x
        ON x.currency = p.currency AND p.paid_on >= x.since_on;
{{- else if eq .Step "compute" -}}
CREATE OR REPLACE TEMP TABLE clv_cx_payments AS
SELECT payment_id, customer_id, paid_on, amount, amount_base FROM base_payments
{{- if not .All}} WHERE customer_id IN (SELECT customer_id FROM clv_purchases_keys){{end}};
CREATE OR REPLACE TEMP TABLE clv_purchases_new AS
SELECT customer_id,
       min(day) AS first_day,
       max(day) AS last_day,
       count(*) AS days,
       sum(value) AS total_value,
       arg_min(value, day) AS first_value
FROM (
    SELECT customer_id, paid_on AS day, sum(amount_base) AS value
    FROM clv_cx_payments
    WHERE amount >= 0
    GROUP BY customer_id, paid_on
)
GROUP BY customer_id;
CREATE OR REPLACE TEMP TABLE clv_payment_customers_new AS
SELECT payment_id, customer_id FROM clv_cx_payments;
DROP TABLE clv_cx_payments;
{{- else if eq .Step "read" -}}
-- clv_summary.sql's table, from the cache, as of as_of
CREATE OR REPLACE TEMP TABLE clv_summary AS
SELECT customer_id,
       days - 1 AS x,
       last_day - first_day AS recency_days,
       getvariable('as_of') - first_day AS t_days,
       total_value - first_value AS repeat_value
FROM cached_clv_purchases;
{{- end}}
