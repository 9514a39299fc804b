-- The per-customer cache of the CLV model's purchase summaries (models/clv.go,
-- clvCache; models/cache.go): model_cache.clv_customers holds every
-- customer's repeat purchases, days between the first and last purchase,
-- first purchase day and repeat value (clv_summary.sql, step customers), and
-- model_cache.clv_payments which payments are whose (a payment moved to
-- another customer changes both). No row depends on as_of when as_of is on
-- or after every payment (the default as-of date always is): T, the days from
-- the first purchase to as_of, is worked out when the summaries are read.
{{if eq .Step "valid" -}}
SELECT coalesce(getvariable('as_of') >= (SELECT max(paid_on) FROM live.payments), true);
{{- else if eq .Step "keys" -}}
-- the customers of the payments a load after the cache's wrote (deleted
-- rows too), and the customers those payments belonged to before
CREATE OR REPLACE TEMP TABLE clv_customers_keys AS
SELECT customer_id FROM main.payments WHERE _load_id > {{.Since}}
UNION SELECT customer_id FROM model_cache.clv_payments
      WHERE payment_id IN (SELECT payment_id FROM main.payments WHERE _load_id > {{.Since}});
{{- else if eq .Step "payments" -}}
CREATE OR REPLACE TEMP TABLE clv_cx_payments AS
SELECT * FROM base_payments{{if not .All}} WHERE customer_id IN (SELECT customer_id FROM clv_customers_keys){{end}};
CREATE OR REPLACE TEMP TABLE clv_payments_new AS
SELECT payment_id, customer_id FROM clv_cx_payments;
{{- else if eq .Step "read" -}}
-- a view: clv_summary.sql reads it once
DROP TABLE IF EXISTS clv_cx_payments;
DROP TABLE IF EXISTS clv_customers;
CREATE OR REPLACE TEMP VIEW clv_customers AS SELECT * FROM cached_clv_customers;
{{- end}}
