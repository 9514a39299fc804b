-- Shared inputs of every model, computed once per refresh, without the rows a
-- snapshot load marked deleted (_deleted_at set): money converted to the
-- base currency with the latest fx rate on or before the row's date (a row in the
-- base currency, or with no currency, has rate 1), and nothing dated after as_of.
-- Amounts are widened to DECIMAL(38,2) before the multiplication: DECIMAL(18,2) times a
-- DECIMAL(18,8) rate is DECIMAL(18,10), which overflows from 10^8 up.
-- A non-base amount with no rate keeps amount_base NULL; the loader refuses such
-- rows, so this only happens if fx_rates rows were removed afterwards.

CREATE OR REPLACE TEMP TABLE base_payments AS
SELECT p.payment_id, p.contract_id, p.customer_id, p.paid_on, p.amount, p.currency, p.method,
       CAST(CAST(p.amount AS DECIMAL(38,2)) * CASE WHEN coalesce(p.currency, getvariable('base_currency')) = getvariable('base_currency') THEN 1 ELSE f.rate_to_base END AS DECIMAL(18,2)) AS amount_base
FROM payments p
ASOF LEFT JOIN (SELECT * FROM fx_rates WHERE _deleted_at IS NULL) f ON f.currency = p.currency AND p.paid_on >= f.on_date
WHERE p.paid_on <= getvariable('as_of') AND p._deleted_at IS NULL;

CREATE OR REPLACE TEMP TABLE base_contracts AS
SELECT c.*,
       CAST(CAST(c.amount AS DECIMAL(38,2)) * CASE WHEN coalesce(c.currency, getvariable('base_currency')) = getvariable('base_currency') THEN 1 ELSE f.rate_to_base END AS DECIMAL(18,2)) AS amount_base,
       CASE WHEN coalesce(c.currency, getvariable('base_currency')) = getvariable('base_currency') THEN 1 ELSE f.rate_to_base END AS rate_to_base
FROM contracts c
ASOF LEFT JOIN (SELECT * FROM fx_rates WHERE _deleted_at IS NULL) f ON f.currency = c.currency AND c.signed_on >= f.on_date
WHERE c.signed_on <= getvariable('as_of') AND c._deleted_at IS NULL;

CREATE OR REPLACE TEMP TABLE base_expenses AS
SELECT e.*,
       CAST(CAST(e.amount AS DECIMAL(38,2)) * CASE WHEN coalesce(e.currency, getvariable('base_currency')) = getvariable('base_currency') THEN 1 ELSE f.rate_to_base END AS DECIMAL(18,2)) AS amount_base
FROM expenses e
ASOF LEFT JOIN (SELECT * FROM fx_rates WHERE _deleted_at IS NULL) f ON f.currency = e.currency AND e.incurred_on >= f.on_date
WHERE e.incurred_on <= getvariable('as_of') AND e._deleted_at IS NULL;

CREATE OR REPLACE TEMP TABLE base_opportunities AS
SELECT o.*,
       CAST(CAST(o.amount AS DECIMAL(38,2)) * CASE WHEN coalesce(o.currency, getvariable('base_currency')) = getvariable('base_currency') THEN 1 ELSE f.rate_to_base END AS DECIMAL(18,2)) AS amount_base
FROM opportunities o
ASOF LEFT JOIN (SELECT * FROM fx_rates WHERE _deleted_at IS NULL) f ON f.currency = o.currency AND CAST(o.created_at AS DATE) >= f.on_date
WHERE CAST(o.created_at AS DATE) <= getvariable('as_of') AND o._deleted_at IS NULL;
