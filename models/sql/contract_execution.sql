-- contract_execution: how each contract is being paid against its settlement plan.
-- Inputs: base_contracts, base_payments (prep.sql: the facts up to as_of);
-- live.payment_schedule, live.customers (schema live: without the rows a
-- snapshot load marked deleted).
-- Run by hand: SET VARIABLE as_of = DATE '2024-09-30'; SET VARIABLE base_currency = 'CNY';
-- then prep.sql, contract_execution_contracts.sql, contract_execution_installments.sql
-- (with Contracts = ce_contracts, Into = ce_installments) and this file.
--
-- Choices (docs/models/collections.md):
-- * Everything is matched in the contract's own currency and shown in the base
--   currency at the contract's booking rate (base_contracts.rate_to_base: the facts'
--   rate on signed_on, 1 in the base currency). A payment in the contract currency settles the same number of units
--   whatever the exchange rate did; a payment in another currency is converted to the
--   contract currency through the base currency (its amount_base / the booking rate).
--   So a fully paid USD contract has outstanding 0, not an exchange-rate difference.
-- * A contract without payment_schedule rows is due in full on start_on (signed_on
--   when start_on is empty): one implied installment.
-- * Payments are allocated FIFO: the oldest installment is paid first. With C(i) the
--   cumulative amount of installments up to and including i (in due order) and P(d)
--   the cumulative payments up to and including day d (refunds reduce it), an
--   installment is covered on day d when P(d) >= C(i), and its allocated amount is
--   least(amount, greatest(0, P(d) - C(i-1))). A refund therefore uncovers the most
--   recent installments first.
-- * owner_rep_id is the rep the contract names (the facts' rep_id, NULL when it names
--   none), and the aging's org unit that rep's unit (rep_org), else the customer's
--   unit: the documented rule of the collections marts (docs/models/collections.md),
--   which for a contract without a rep differs from the scope rule's owner_org (the
--   customer's owner rep's unit first).

-- ce_installments: contract_execution_installments.sql (models/contract_execution.go:
-- from the payments and plans directly, or from the per-contract cache).

CREATE OR REPLACE TEMP TABLE ce_alloc AS
SELECT i.*,
       least(i.amount, greatest(0, i.paid_now - i.cum_before)) AS allocated,
       i.paid_now >= i.cum_through AS covered,
       i.paid_by_due >= i.cum_through AS on_time,
       i.due_on <= getvariable('as_of') AS is_due
FROM ce_installments i;

-- ce_cents rounds a DECIMAL(38,4) amount to cents. It goes through
-- DECIMAL(18,4) because DuckDB 1.5 changes the scale of a 128-bit decimal
-- about 20x slower than of a 64-bit one (12 s against 0.6 s for 22 M rows);
-- the result is the same (contract amounts are far below 10^14).
CREATE OR REPLACE TEMP MACRO ce_cents(amount) AS CAST(CAST(amount AS DECIMAL(18,4)) AS DECIMAL(18,2));

-- ce_to_base converts a contract-currency amount at the booking rate and
-- rounds it to cents. Nearly every contract is in the base currency (rate 1),
-- where the wide multiplication is skipped.
CREATE OR REPLACE TEMP MACRO ce_to_base(amount_cc, rate) AS
    CASE WHEN rate = 1 THEN ce_cents(amount_cc) ELSE CAST(amount_cc * rate AS DECIMAL(18,2)) END;

CREATE OR REPLACE TABLE mart_contract_execution AS
WITH per_contract AS (
    SELECT contract_id,
           coalesce(sum(amount) FILTER (WHERE is_due), 0) AS due_cc,
           min(due_on) FILTER (WHERE is_due AND NOT covered) AS oldest_uncovered,
           avg(CASE WHEN on_time THEN 1.0 ELSE 0.0 END) FILTER (WHERE is_due) AS on_time_share,
           -- every installment row carries its contract's payments to date
           coalesce(any_value(paid_now), 0) AS paid_cc
    FROM ce_alloc
    GROUP BY contract_id
)
SELECT c.contract_id, c.customer_id, c.owner_rep_id,
       c.amount_base AS amount,
       ce_to_base(k.due_cc, c.rate_to_base) AS due_to_date,
       ce_to_base(k.paid_cc, c.rate_to_base) AS paid_to_date,
       CAST(c.amount_base - ce_to_base(k.paid_cc, c.rate_to_base) AS DECIMAL(18,2)) AS outstanding,
       ce_to_base(greatest(0, k.due_cc - k.paid_cc), c.rate_to_base) AS overdue_amount,
       CAST(coalesce(date_diff('day', k.oldest_uncovered, getvariable('as_of')), 0) AS INTEGER) AS days_overdue_max,
       CAST(k.on_time_share AS DOUBLE) AS on_time_share,
       CASE WHEN c.contract_status IN ('cancelled', 'terminated') THEN 'cancelled'
            WHEN k.paid_cc >= c.amount THEN 'settled'
            WHEN k.due_cc > k.paid_cc THEN 'overdue'
            ELSE 'current' END AS status,
       getvariable('as_of') AS as_of
FROM ce_contracts c
JOIN per_contract k ON k.contract_id = c.contract_id
ORDER BY c.contract_id;

COMMENT ON TABLE mart_contract_execution IS 'Contract execution as of as_of: what was due, what was paid, what is overdue. One row per contract signed on or before as_of. Amounts in the base currency at the contract''s booking rate (rate on signed_on); payments are matched to installments FIFO in the contract currency. See docs/models/collections.md.';
COMMENT ON COLUMN mart_contract_execution.amount IS 'Contract value, base currency (booking rate).';
COMMENT ON COLUMN mart_contract_execution.due_to_date IS 'Sum of installments due on or before as_of. A contract without payment_schedule rows is due in full on start_on (signed_on if start_on is empty).';
COMMENT ON COLUMN mart_contract_execution.paid_to_date IS 'Payments of the contract on or before as_of, refunds subtracted, valued at the booking rate.';
COMMENT ON COLUMN mart_contract_execution.outstanding IS 'amount - paid_to_date: what remains to be collected, due or not.';
COMMENT ON COLUMN mart_contract_execution.overdue_amount IS 'greatest(0, due_to_date - paid_to_date).';
COMMENT ON COLUMN mart_contract_execution.days_overdue_max IS 'Days from the due date of the oldest due installment not covered by payments (FIFO) to as_of; 0 when nothing is overdue.';
COMMENT ON COLUMN mart_contract_execution.on_time_share IS 'Share (0..1) of the installments due on or before as_of that were fully covered (FIFO) by their due date; NULL when nothing is due yet.';
COMMENT ON COLUMN mart_contract_execution.status IS 'cancelled (contract cancelled or terminated: not chased), settled (paid >= amount), overdue (overdue_amount > 0), current (nothing overdue).';

CREATE OR REPLACE TABLE mart_settlements_due AS
SELECT a.contract_id, a.due_on,
       ce_to_base(ce_cents(a.amount), c.rate_to_base) AS amount_due,
       -- so that amount_due - amount_paid is exactly the unpaid amount of the aging
       CAST(ce_to_base(ce_cents(a.amount), c.rate_to_base) - ce_to_base(ce_cents(a.amount - a.allocated), c.rate_to_base) AS DECIMAL(18,2)) AS amount_paid,
       CAST(date_diff('day', getvariable('as_of'), a.due_on) AS INTEGER) AS days_until_due,
       CASE WHEN a.due_on <= getvariable('as_of') THEN 'overdue'
            WHEN a.due_on <= getvariable('as_of') + 7 THEN 'due_7d'
            ELSE 'due_this_month' END AS status
-- "By month end" is the end of the as-of month, or of the next month when
-- the as-of date is a month end (otherwise it would be "within 7 days" again,
-- or nothing): last_day(as_of + 1).
FROM ce_alloc a
JOIN ce_contracts c ON c.contract_id = a.contract_id
WHERE c.contract_status NOT IN ('cancelled', 'terminated')
  AND a.allocated < a.amount
  AND (a.due_on <= getvariable('as_of') + 7 OR a.due_on <= last_day(getvariable('as_of') + 1))
ORDER BY a.due_on, a.contract_id;

COMMENT ON TABLE mart_settlements_due IS 'Installments to chase as of as_of: overdue (due on or before as_of and not fully paid), due_7d (due in the next 7 days), due_this_month (due later by the month end: the end of the as-of month, or of the next month when as_of is a month end). Installments already covered by payments (FIFO) are left out, and so are cancelled or terminated contracts. Amounts in the base currency at the booking rate.';
COMMENT ON COLUMN mart_settlements_due.amount_paid IS 'Part of the installment covered by payments (FIFO allocation).';
COMMENT ON COLUMN mart_settlements_due.days_until_due IS 'due_on - as_of in days; negative when overdue.';

CREATE OR REPLACE TABLE mart_receivables_aging AS
SELECT coalesce(c.rep_org, cu.org_unit_id) AS org_unit_id,
       c.owner_rep_id,
       CASE WHEN date_diff('day', a.due_on, getvariable('as_of')) <= 30 THEN '0-30'
            WHEN date_diff('day', a.due_on, getvariable('as_of')) <= 60 THEN '31-60'
            WHEN date_diff('day', a.due_on, getvariable('as_of')) <= 90 THEN '61-90'
            ELSE '>90' END AS bucket,
       CAST(sum(ce_to_base(ce_cents(a.amount - a.allocated), c.rate_to_base)) AS DECIMAL(18,2)) AS amount,
       CAST(count(DISTINCT a.contract_id) AS INTEGER) AS contracts
FROM ce_alloc a
JOIN ce_contracts c ON c.contract_id = a.contract_id
LEFT JOIN live.customers cu ON cu.customer_id = c.customer_id
WHERE a.is_due AND a.allocated < a.amount
  AND c.contract_status NOT IN ('cancelled', 'terminated')
GROUP BY ALL
ORDER BY org_unit_id, owner_rep_id, bucket;

COMMENT ON TABLE mart_receivables_aging IS 'Overdue receivables by org unit, rep and age as of as_of: the unpaid part of every overdue installment (FIFO) in the bucket of its own days overdue. Cancelled and terminated contracts are left out. Buckets sort as text: 0-30 < 31-60 < 61-90 < >90.';
COMMENT ON COLUMN mart_receivables_aging.org_unit_id IS 'Org unit of the contract''s owner rep; the customer''s org unit when the contract has no (known) owner.';
COMMENT ON COLUMN mart_receivables_aging.bucket IS 'Days overdue: 0-30, 31-60, 61-90, >90 (due today counts as 0).';
COMMENT ON COLUMN mart_receivables_aging.amount IS 'Unpaid overdue amount, base currency at the booking rate.';
COMMENT ON COLUMN mart_receivables_aging.contracts IS 'Number of distinct contracts with an installment in the bucket.';
