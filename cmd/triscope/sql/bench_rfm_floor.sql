-- The floor for the RFM model: one hand-written query with the same definition
-- (quintile edges by quantile_cont, right-closed bins) straight on payments,
-- without the base-currency conversion, bookkeeping or materialised inputs.
-- $1 = as_of.
CREATE OR REPLACE TEMP TABLE bench_rfm_floor AS
WITH v AS (
    SELECT customer_id,
           date_diff('day', max(paid_on) FILTER (WHERE amount >= 0), CAST($1 AS DATE)) AS r,
           count(*) FILTER (WHERE amount >= 0) AS f,
           sum(amount) AS m,
           row_number() OVER (ORDER BY count(*) FILTER (WHERE amount >= 0), customer_id) AS fr
    FROM payments WHERE paid_on <= CAST($1 AS DATE)
    GROUP BY customer_id HAVING count(*) FILTER (WHERE amount >= 0) > 0
),
e AS (
    SELECT quantile_cont(r, [0.2, 0.4, 0.6, 0.8]) AS re, quantile_cont(fr, [0.2, 0.4, 0.6, 0.8]) AS fe,
           quantile_cont(CAST(m AS DOUBLE), [0.2, 0.4, 0.6, 0.8]) AS me
    FROM v
)
SELECT customer_id, r, f, m,
       6 - (CASE WHEN r <= re[1] THEN 1 WHEN r <= re[2] THEN 2 WHEN r <= re[3] THEN 3 WHEN r <= re[4] THEN 4 ELSE 5 END) AS r_score,
       CASE WHEN fr <= fe[1] THEN 1 WHEN fr <= fe[2] THEN 2 WHEN fr <= fe[3] THEN 3 WHEN fr <= fe[4] THEN 4 ELSE 5 END AS f_score,
       CASE WHEN m <= me[1] THEN 1 WHEN m <= me[2] THEN 2 WHEN m <= me[3] THEN 3 WHEN m <= me[4] THEN 4 ELSE 5 END AS m_score
FROM v, e
