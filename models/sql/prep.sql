-- Shared inputs of every model, computed once per refresh, without the rows a
-- snapshot load marked deleted (_deleted_at set): money converted to the
-- base currency with the latest fx rate on or before the row's date (a row in the
-- base currency, or with no currency, has rate 1), and nothing dated after as_of.
-- Amounts are widened to DECIMAL(38,2) before the multiplication: DECIMAL(18,2) times a
-- DECIMAL(18,8) rate is DECIMAL(18,10), which overflows from 10^8 up.
-- A non-base amount with no rate keeps amount_base NULL; the loader refuses such
-- rows, so this only happens if fx_rates rows were removed afterwards.
-- A timestamp is "on or before as_of" when it is before day_after_as_of, the
-- first instant of the next day in the session time zone (set below for every
-- model): the same as CAST(ts AS DATE) <= as_of, but DuckDB casts a
-- TIMESTAMPTZ to a DATE through ICU at about 60 ns a row (4.4 s for two casts
-- over 36 M activities, against 0.06 s for the comparison), so no filter casts.
-- Each table is two parts: rows in the base currency (nearly all of them) are
-- copied as they are, and only the foreign-currency rows go through the ASOF
-- join, which sorts its input: on 22 M payments that is 12x faster than joining
-- every row.

SET VARIABLE day_after_as_of = CAST(getvariable('as_of') + 1 AS TIMESTAMPTZ);

-- local_day(ts): the calendar day of a TIMESTAMPTZ in the session time zone,
-- exactly CAST(ts AS DATE), which goes through ICU (2.8 s over the 28.6 M
-- stage-history rows of the large demo company, which two models cast).
-- Where the zone's offset from UTC is the same at every midnight of the days
-- the stage history and the deals span (Asia/Shanghai has kept +08:00 since
-- 1991), the day is integer arithmetic on the instant instead (0.3 s).
-- Instants outside that span or before 1970, and every instant in a zone
-- whose offset changes within it (daylight saving time), are cast.
SET VARIABLE local_day_from = (
    SELECT greatest(CAST(min(lo) AS DATE) - 1, DATE '1970-01-02')
    FROM (SELECT min(entered_at) AS lo FROM opportunity_stages UNION ALL SELECT min(created_at) FROM opportunities)
);
SET VARIABLE local_day_until = (
    SELECT CAST(max(hi) AS DATE) + 2
    FROM (SELECT max(entered_at) AS hi FROM opportunity_stages UNION ALL SELECT max(created_at) FROM opportunities)
);
SET VARIABLE utc_offset_us = (
    -- local midnight (a TIMESTAMP's epoch) less the instant it is
    SELECT CASE WHEN count(DISTINCT off) = 1 THEN any_value(off) END
    FROM (SELECT epoch_us(m) - epoch_us(CAST(m AS TIMESTAMPTZ)) AS off
          FROM generate_series(CAST(getvariable('local_day_from') AS TIMESTAMP),
                               CAST(getvariable('local_day_until') AS TIMESTAMP), INTERVAL 1 DAY) g(m))
);
SET VARIABLE local_day_fast_from = CASE WHEN getvariable('utc_offset_us') IS NOT NULL
                                        THEN CAST(getvariable('local_day_from') AS TIMESTAMPTZ) END;
SET VARIABLE local_day_fast_until = CASE WHEN getvariable('utc_offset_us') IS NOT NULL
                                         THEN CAST(getvariable('local_day_until') AS TIMESTAMPTZ) END;
CREATE OR REPLACE TEMP MACRO local_day(ts) AS
    CASE WHEN ts >= getvariable('local_day_fast_from') AND ts < getvariable('local_day_fast_until')
         THEN DATE '1970-01-01' + CAST((epoch_us(ts) + getvariable('utc_offset_us')) // 86400000000 AS INTEGER)
         ELSE CAST(ts AS DATE) END;

CREATE OR REPLACE TEMP TABLE base_payments AS
SELECT p.payment_id, p.contract_id, p.customer_id, p.paid_on, p.amount, p.currency, p.method, p.amount AS amount_base
FROM payments p
WHERE coalesce(p.currency, getvariable('base_currency')) = getvariable('base_currency')
  AND p.paid_on <= getvariable('as_of') AND p._deleted_at IS NULL
UNION ALL BY NAME
SELECT p.payment_id, p.contract_id, p.customer_id, p.paid_on, p.amount, p.currency, p.method, CAST(CAST(p.amount AS DECIMAL(38,2)) * f.rate_to_base AS DECIMAL(18,2)) AS amount_base
FROM (SELECT * FROM payments WHERE currency <> getvariable('base_currency')) p
ASOF LEFT JOIN (SELECT * FROM fx_rates WHERE _deleted_at IS NULL) f ON f.currency = p.currency AND p.paid_on >= f.on_date
WHERE p.paid_on <= getvariable('as_of') AND p._deleted_at IS NULL;

CREATE OR REPLACE TEMP TABLE base_contracts AS
SELECT c.*, c.amount AS amount_base, CAST(1 AS DECIMAL(18,8)) AS rate_to_base
FROM contracts c
WHERE coalesce(c.currency, getvariable('base_currency')) = getvariable('base_currency')
  AND c.signed_on <= getvariable('as_of') AND c._deleted_at IS NULL
UNION ALL BY NAME
SELECT c.*, CAST(CAST(c.amount AS DECIMAL(38,2)) * f.rate_to_base AS DECIMAL(18,2)) AS amount_base, f.rate_to_base
FROM (SELECT * FROM contracts WHERE currency <> getvariable('base_currency')) c
ASOF LEFT JOIN (SELECT * FROM fx_rates WHERE _deleted_at IS NULL) f ON f.currency = c.currency AND c.signed_on >= f.on_date
WHERE c.signed_on <= getvariable('as_of') AND c._deleted_at IS NULL;

-- base_expenses is a view: only the customer value model reads it, once, and
-- 16 M expense rows need not be copied for that.
CREATE OR REPLACE TEMP VIEW base_expenses AS
SELECT e.*, e.amount AS amount_base
FROM expenses e
WHERE coalesce(e.currency, getvariable('base_currency')) = getvariable('base_currency')
  AND e.incurred_on <= getvariable('as_of') AND e._deleted_at IS NULL
UNION ALL BY NAME
SELECT e.*, CAST(CAST(e.amount AS DECIMAL(38,2)) * f.rate_to_base AS DECIMAL(18,2)) AS amount_base
FROM (SELECT * FROM expenses WHERE currency <> getvariable('base_currency')) e
ASOF LEFT JOIN (SELECT * FROM fx_rates WHERE _deleted_at IS NULL) f ON f.currency = e.currency AND e.incurred_on >= f.on_date
WHERE e.incurred_on <= getvariable('as_of') AND e._deleted_at IS NULL;

CREATE OR REPLACE TEMP TABLE base_opportunities AS
SELECT o.*, o.amount AS amount_base
FROM opportunities o
WHERE coalesce(o.currency, getvariable('base_currency')) = getvariable('base_currency')
  AND o.created_at < getvariable('day_after_as_of') AND o._deleted_at IS NULL
UNION ALL BY NAME
SELECT o.*, CAST(CAST(o.amount AS DECIMAL(38,2)) * f.rate_to_base AS DECIMAL(18,2)) AS amount_base
FROM (SELECT * FROM opportunities WHERE currency <> getvariable('base_currency')) o
ASOF LEFT JOIN (SELECT * FROM fx_rates WHERE _deleted_at IS NULL) f ON f.currency = o.currency AND CAST(o.created_at AS DATE) >= f.on_date
WHERE o.created_at < getvariable('day_after_as_of') AND o._deleted_at IS NULL;
