-- RFM: recency, frequency and monetary value per customer, scored 1-5 by
-- quintiles the way analysts usually compute them (pandas qcut: bin edges at the
-- 20/40/60/80 % quantiles with linear interpolation, right-closed, the lowest
-- value in bin 1).
--   A purchase is a payment with amount >= 0 (a zero-value purchase counts);
--   a negative payment is a refund: it lowers M and is not a purchase.
--   R = whole days from the last purchase to as_of (fewer days score 5);
--   F = number of purchases, scored on its rank with ties broken by
--       customer_id ascending, so the five bins are equal-sized;
--   M = sum of all payments in the base currency.
-- Customers with no purchase up to as_of are not scored.
--
-- The file is a template run twice by models/rfm.go: {{.At}} is the date the
-- scores are for (getvariable('as_of') for mart_rfm; the comparison date of the
-- segment movement for the temp table rfm_previous), {{.Date}} which of
-- rfm_sums.sql's columns hold that date's sums (now, previous), {{.Out}} the
-- table made. By hand: SET VARIABLE as_of = DATE '2025-12-31', run prep.sql,
-- rfm_sums.sql, then this file with {{.At}} = getvariable('as_of'), {{.Date}} =
-- now, {{.Out}} = mart_rfm and {{.Kind}} empty.

CREATE OR REPLACE TEMP TABLE rfm_values AS
SELECT customer_id,
       date_diff('day', last_{{.Date}}, {{.At}}) AS recency_days,
       n_{{.Date}} AS frequency,
       m_{{.Date}} AS monetary,
       row_number() OVER (ORDER BY n_{{.Date}}, customer_id) AS frequency_rank
FROM rfm_sums
WHERE n_{{.Date}} > 0;

CREATE OR REPLACE TEMP TABLE rfm_edges AS
SELECT quantile_cont(CAST(recency_days AS DOUBLE), [0.2, 0.4, 0.6, 0.8]) AS r,
       quantile_cont(CAST(frequency_rank AS DOUBLE), [0.2, 0.4, 0.6, 0.8]) AS f,
       quantile_cont(CAST(monetary AS DOUBLE), [0.2, 0.4, 0.6, 0.8]) AS m
FROM rfm_values;

-- quintile(v, edges): the first bin whose right edge is >= v.
CREATE OR REPLACE TEMP MACRO quintile(v, e) AS
    CASE WHEN v <= e[1] THEN 1 WHEN v <= e[2] THEN 2 WHEN v <= e[3] THEN 3 WHEN v <= e[4] THEN 4 ELSE 5 END;

CREATE OR REPLACE {{.Kind}} TABLE {{.Out}} AS
WITH scored AS (
    SELECT v.customer_id, v.recency_days, v.frequency, v.monetary,
           6 - quintile(CAST(v.recency_days AS DOUBLE), e.r) AS r_score,
           quintile(CAST(v.frequency_rank AS DOUBLE), e.f) AS f_score,
           quintile(CAST(v.monetary AS DOUBLE), e.m) AS m_score
    FROM rfm_values v, rfm_edges e
)
SELECT customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
       CASE
           WHEN r_score = 5 AND f_score >= 4 THEN 'champions'
           WHEN r_score IN (3, 4) AND f_score >= 4 THEN 'loyal'
           WHEN r_score >= 4 AND f_score IN (2, 3) THEN 'potential_loyalist'
           WHEN r_score = 5 AND f_score = 1 THEN 'new'
           WHEN r_score = 4 AND f_score = 1 THEN 'promising'
           WHEN r_score = 3 AND f_score = 3 THEN 'need_attention'
           WHEN r_score = 3 AND f_score <= 2 THEN 'about_to_sleep'
           WHEN r_score <= 2 AND f_score IN (3, 4) THEN 'at_risk'
           WHEN r_score <= 2 AND f_score = 5 THEN 'cant_lose'
           ELSE 'hibernating'
       END AS segment,
       {{.At}} AS as_of
FROM scored
ORDER BY customer_id;

{{if .Comments}}
COMMENT ON TABLE mart_rfm IS 'RFM per customer with at least one purchase (payment >= 0) up to as_of: scores 1-5 by quintiles (pandas qcut rules) and the R x F segment. See docs/models/rfm.md.';
COMMENT ON COLUMN mart_rfm.recency_days IS 'Whole days from the last purchase to as_of.';
COMMENT ON COLUMN mart_rfm.frequency IS 'Number of purchases (payments with amount >= 0).';
COMMENT ON COLUMN mart_rfm.monetary IS 'Sum of payments in the base currency, refunds subtracted.';
COMMENT ON COLUMN mart_rfm.segment IS 'champions, loyal, potential_loyalist, new, promising, need_attention, about_to_sleep, at_risk, cant_lose or hibernating.'
{{end}}
