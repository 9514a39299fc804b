-- RFM's sums per customer at both dates it scores (models/rfm.go): as_of and
-- the comparison date of the segment movement ({{.Previous}}, before as_of), in
-- one pass over the payments instead of one per date. rfm.sql reads the
-- columns of one date: last_<d> (the last purchase), n_<d> (purchases:
-- payments >= 0), m_<d> (all payments, refunds included).
-- CASE rather than FILTER: on the large company's 22 M payments this took
-- 1.7 s, the same six aggregates with FILTER 3.4 s, one date alone 1.4 s.
CREATE OR REPLACE TEMP TABLE rfm_sums AS
SELECT customer_id,
       max(CASE WHEN amount >= 0 THEN paid_on END) AS last_now,
       count(CASE WHEN amount >= 0 THEN 1 END) AS n_now,
       sum(amount_base) AS m_now,
       max(CASE WHEN amount >= 0 AND paid_on <= {{.Previous}} THEN paid_on END) AS last_previous,
       count(CASE WHEN amount >= 0 AND paid_on <= {{.Previous}} THEN 1 END) AS n_previous,
       sum(CASE WHEN paid_on <= {{.Previous}} THEN amount_base END) AS m_previous
FROM base_payments
GROUP BY customer_id;
