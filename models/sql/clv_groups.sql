-- CLV model, step 3: the groups the fit and the forecast work on, from
-- clv_summary (clv_summary.sql, or the cache: clv_cache.sql).

-- Customers with identical (x, t_x, T) have identical BG/NBD likelihoods and
-- forecasts: the fit and the forecast work on these groups.
CREATE OR REPLACE TEMP TABLE clv_groups AS
SELECT x, recency_days, t_days, count(*) AS n
FROM clv_summary
GROUP BY x, recency_days, t_days;

-- Filled by Go through the appender: one forecast per group.
CREATE OR REPLACE TEMP TABLE clv_forecast (
    x                  BIGINT,
    recency_days       BIGINT,
    t_days             BIGINT,
    p_alive            DOUBLE,
    expected_purchases DOUBLE,
    disc_purchases     DOUBLE
);
