-- base_payment_sums: the payments up to as_of summed per customer and contract
-- (contract_id NULL: those without one), with the first payment day. Built once
-- per refresh by the first model that reads it (customer_value, alerts:
-- models/payment_sums.go) and kept until the refresh ends: grouping the
-- large company's 22 M payments by their text keys takes seconds, regrouping
-- these 2.3 M rows per customer or per contract a fraction of that, and
-- decimal sums regroup exactly.
CREATE OR REPLACE TEMP TABLE base_payment_sums AS
SELECT customer_id, contract_id, sum(amount_base) AS amount, min(paid_on) AS first_on
FROM base_payments GROUP BY customer_id, contract_id;
