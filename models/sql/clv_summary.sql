-- CLV model, step 2: per-customer purchase summaries from the payments
-- (base_payments: limited to paid_on <= as_of and converted to the base
-- currency).
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

-- clv_days (payment_sums.go: from the per-customer cache, or computed
-- directly) holds each customer's purchase days: their number, the first and
-- the last, the total value and the first day's.
CREATE OR REPLACE TEMP TABLE clv_summary AS
SELECT customer_id,
       days - 1 AS x,
       last_day - first_day AS recency_days,
       getvariable('as_of') - first_day AS t_days,
       value - first_value AS repeat_value
FROM clv_days;

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
