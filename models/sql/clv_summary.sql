-- CLV model, step 2: per-customer purchase summaries from base_payments (already
-- limited to paid_on <= as_of and converted to the base currency).
--
-- A purchase is a payment with amount >= 0 (a zero-value payment is a purchase,
-- as in the published CDNOW fits); a negative payment is a refund and is
-- ignored here: it is not a purchase and does not reduce the spend. All of a
-- customer's purchases on one day are one transaction (a purchase day) whose
-- value is the sum of that day's non-negative payments.
--
--   x            = purchase days - 1 (repeat transactions)
--   recency_days = last purchase day - first purchase day   (t_x in days)
--   t_days       = as_of - first purchase day               (T in days)
--   repeat_value = total value of the purchase days after the first one,
--                  so zbar = repeat_value / x (the CDNOW summary's definition)

CREATE OR REPLACE TEMP TABLE clv_summary AS
SELECT customer_id,
       count(*) - 1 AS x,
       max(day) - min(day) AS recency_days,
       getvariable('as_of') - min(day) AS t_days,
       sum(value) - arg_min(value, day) AS repeat_value
FROM (
    SELECT customer_id, paid_on AS day, sum(amount_base) AS value
    FROM base_payments
    WHERE amount >= 0
    GROUP BY customer_id, paid_on
)
GROUP BY customer_id;

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
