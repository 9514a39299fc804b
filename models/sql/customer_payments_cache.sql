-- The per-customer cache of the payments' sums (models/payment_sums.go,
-- customerPaymentsCache; models/cache.go), what the customer models read of
-- the large company's 22 M payments, kept across refreshes per customer so
-- that a daily load regroups the payments of the customers it touched:
--   payment_sums (customer_id, contract_id, amount, first_on): the payments
--       summed per customer and contract (base_payment_sums, with the first
--       payment day);
--   clv_days (customer_id, days, first_day, last_day, value, first_value):
--       the CLV model's purchase days (clv_summary.sql).
-- No row depends on as_of when as_of is on or after every payment (the
-- default as-of date always is): clv_summary adds it. A customer is
-- recomputed when a load wrote one of its payments, or moved one away from
-- it (the facts' log of moved payments, facts.payment_changes); fx rates
-- changing rebuild all (amount_base converts through them).
{{if eq .Step "valid" -}}
SELECT coalesce(getvariable('as_of') >= (SELECT max(paid_on) FROM live.payments), true);
{{- else if eq .Step "keys" -}}
CREATE OR REPLACE TEMP TABLE customer_payments_keys AS
SELECT customer_id FROM main.payments WHERE _load_id > {{.Since}}
UNION SELECT customer_id FROM facts.payment_changes WHERE load_id > {{.Since}};
{{- else if eq .Step "compute" -}}
-- .Into is a suffix: _new (the keys, or all of them for a rebuild) or ''
-- (the tables the models read, computed directly at as_of). The keys'
-- payments are looked up once (a pass over every payment's customer:
-- 2 s of the large company's 22 M) and grouped twice.
{{- $from := "base_payments"}}
{{- if .Keys}}
{{- $from = "customer_payments_rows"}}
CREATE OR REPLACE TEMP TABLE customer_payments_rows AS
SELECT customer_id, contract_id, paid_on, amount, amount_base FROM base_payments
WHERE customer_id IN (SELECT customer_id FROM customer_payments_keys);
{{- end}}
CREATE OR REPLACE TEMP TABLE {{if .Into}}payment_sums{{.Into}}{{else}}base_payment_sums{{end}} AS
SELECT customer_id, contract_id, sum(amount_base) AS amount, min(paid_on) AS first_on
FROM {{$from}}
GROUP BY customer_id, contract_id;

-- A purchase is a payment with amount >= 0, and a customer's purchases of
-- one day one transaction (clv_summary.sql says why)
CREATE OR REPLACE TEMP TABLE clv_days{{.Into}} AS
SELECT customer_id, count(*) AS days, min(day) AS first_day, max(day) AS last_day,
       sum(value) AS value, arg_min(value, day) AS first_value
FROM (
    SELECT customer_id, paid_on AS day, sum(amount_base) AS value
    FROM {{$from}}
    WHERE amount >= 0
    GROUP BY customer_id, paid_on
)
GROUP BY customer_id;
{{- if .Keys}}
DROP TABLE customer_payments_rows;
{{- end}}
{{- else if eq .Step "read" -}}
CREATE OR REPLACE TEMP TABLE base_payment_sums AS SELECT * FROM cached_payment_sums;
CREATE OR REPLACE TEMP TABLE clv_days AS SELECT * FROM cached_clv_days;
{{- end}}
