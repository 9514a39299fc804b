-- contract_execution: every installment of the contracts of a table (.Contracts:
-- ce_contracts, or some of them for the per-contract cache) with the running
-- sums FIFO allocation needs, into a temp table (.Into). Nothing here depends
-- on as_of but through the rows of base_payments and ce_contracts, so when
-- as_of is on or after every payment and signature, the rows are kept
-- across refreshes per contract (models/contract_execution.go).

CREATE OR REPLACE TEMP TABLE ce_payments AS
SELECT p.contract_id, p.paid_on,
       CASE WHEN coalesce(p.currency, getvariable('base_currency')) = c.currency
            THEN CAST(p.amount AS DECIMAL(38,4))
            ELSE CAST(CAST(p.amount_base AS DOUBLE) / CAST(c.rate_to_base AS DOUBLE) AS DECIMAL(38,4))
       END AS amount_cc
FROM base_payments p
JOIN {{.Contracts}} c ON c.contract_id = p.contract_id;

CREATE OR REPLACE TEMP TABLE {{.Into}} AS
WITH plan AS (
    SELECT s.contract_id, s.due_on, CAST(sum(s.amount) AS DECIMAL(38,4)) AS amount, false AS implied
    FROM live.payment_schedule s
    JOIN {{.Contracts}} c ON c.contract_id = s.contract_id
    GROUP BY s.contract_id, s.due_on
), implied AS (
    SELECT c.contract_id, coalesce(c.start_on, c.signed_on) AS due_on, CAST(c.amount AS DECIMAL(38,4)) AS amount, true AS implied
    FROM {{.Contracts}} c
    WHERE NOT EXISTS (SELECT 1 FROM live.payment_schedule s WHERE s.contract_id = c.contract_id)
), events AS (
    -- installments (kind 1) and payments (kind 0) of each contract in one
    -- date order, payments of a day before the installments due that day. An
    -- installment is one (contract_id, due_on): plan lines due the same day
    -- are summed.
    SELECT contract_id, due_on AS on_date, 1 AS kind, amount AS due, implied, CAST(0 AS DECIMAL(38,4)) AS paid FROM plan
    UNION ALL
    SELECT contract_id, due_on, 1, amount, implied, 0 FROM implied
    UNION ALL
    SELECT contract_id, paid_on, 0, 0, NULL, amount_cc FROM ce_payments
), running AS (
    -- One sort gives both running sums: the plan up to and including each
    -- installment (cum_through; payments add 0) and the payments made on or
    -- before its due date (paid_by_due), instead of pairing every installment
    -- with every payment of its contract; and the contract's payments to date.
    SELECT contract_id, on_date, kind, due, implied,
           sum(due) OVER w AS cum_through,
           sum(paid) OVER w AS paid_by_due,
           sum(paid) OVER (PARTITION BY contract_id) AS paid_now
    FROM events
    WINDOW w AS (PARTITION BY contract_id ORDER BY on_date, kind ROWS UNBOUNDED PRECEDING)
)
SELECT contract_id, on_date AS due_on, due AS amount, implied, cum_through - due AS cum_before, cum_through,
       paid_by_due, paid_now
FROM running
WHERE kind = 1;

