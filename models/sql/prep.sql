-- Shared inputs of every model, once per refresh: the facts (facts.sql, the
-- one definition of the live rows, their base-currency amounts and owners,
-- built on the write path and brought up to date as the first step of the
-- refresh) as they stood on as_of — nothing dated after it.
--   base_payments       facts.payments paid on or before as_of
--   base_contracts      facts.contracts signed on or before as_of
--   base_opportunities  facts.opportunities created on or before as_of
--   base_expenses       facts.expenses incurred on or before as_of
-- They are views: the facts are stored ordered by their date, so the filter
-- skips the later row groups, and nothing is copied. amount_base is the
-- amount in the base currency at the rate of the row's date (NULL for a
-- non-base amount without a rate); owner_rep_id/owner_org are the owner of
-- the scope rule, rep_id/rep_org the rep the row itself names. Base tables
-- that have no facts are read through schema live (migration 0006), which
-- leaves out the rows a snapshot load marked deleted.
-- A timestamp is "on or before as_of" when it is before day_after_as_of, the
-- first instant of the next day in the session time zone (set below for every
-- model): the same as CAST(ts AS DATE) <= as_of, but DuckDB casts a
-- TIMESTAMPTZ to a DATE through ICU at about 60 ns a row (4.4 s for two casts
-- over 36 M activities, against 0.06 s for the comparison), so no filter casts.

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
    FROM (SELECT min(entered_at) AS lo FROM live.opportunity_stages UNION ALL SELECT min(created_at) FROM live.opportunities)
);
SET VARIABLE local_day_until = (
    SELECT CAST(max(hi) AS DATE) + 2
    FROM (SELECT max(entered_at) AS hi FROM live.opportunity_stages UNION ALL SELECT max(created_at) FROM live.opportunities)
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

CREATE OR REPLACE TEMP VIEW base_payments AS
SELECT * FROM facts.payments WHERE paid_on <= getvariable('as_of');

CREATE OR REPLACE TEMP VIEW base_contracts AS
SELECT * FROM facts.contracts WHERE signed_on <= getvariable('as_of');

CREATE OR REPLACE TEMP VIEW base_opportunities AS
SELECT * FROM facts.opportunities WHERE created_at < getvariable('day_after_as_of');

CREATE OR REPLACE TEMP VIEW base_expenses AS
SELECT * FROM facts.expenses WHERE incurred_on <= getvariable('as_of');
