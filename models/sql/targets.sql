-- Targets broken down (pl_tgt_weeks and pl_tgt_months, computed in
-- targets.go) next to the actuals. Bookings = contracts signed (base_contracts,
-- by signed_on, for the rep the contract names: rep_id); collections = payments
-- received (base_payments, by paid_on, for the payment's owner of the facts:
-- the contract's owner rep, else the customer's owner rep). A rep's actuals
-- count in the rep's org unit and every unit above it (facts.org_paths): the
-- targets are set and broken down along the reps' units, so a unit's actual
-- is the sum of its reps', not of the rows the scope rule gives the unit
-- (owner_org falls back to the customer's unit).

CREATE OR REPLACE TEMP TABLE pl_tgt_actuals AS
WITH rep_actual AS (
    SELECT rep_id, signed_on AS day, amount_base AS bookings, 0 AS collections
    FROM base_contracts WHERE rep_id IS NOT NULL
    UNION ALL
    SELECT owner_rep_id, paid_on, 0, amount_base
    FROM base_payments
),
by_rep AS (
    SELECT rep_id, CAST(date_trunc('week', day) AS DATE) AS week_start, strftime(day, '%Y-%m') AS month,
           sum(bookings) AS bookings, sum(collections) AS collections
    FROM rep_actual WHERE rep_id IS NOT NULL GROUP BY ALL
)
SELECT 'rep' AS kind, rep_id AS scope_id, week_start, month, bookings, collections FROM by_rep
UNION ALL
SELECT 'org', oc.ancestor_id, b.week_start, b.month, b.bookings, b.collections
FROM by_rep b JOIN live.reps r ON r.rep_id = b.rep_id JOIN facts.org_paths oc ON oc.org_unit_id = r.org_unit_id;

CREATE OR REPLACE TABLE mart_targets AS
WITH a AS (
    SELECT kind, scope_id, week_start, sum(bookings) AS bookings, sum(collections) AS collections
    FROM pl_tgt_actuals GROUP BY ALL
)
SELECT t.scope, t.scope_id, t.metric, t.week_start,
       CAST(round(t.target, 2) AS DECIMAL(18,2)) AS target,
       CAST(coalesce(a.bookings, 0) AS DECIMAL(18,2)) AS actual_bookings,
       CAST(coalesce(a.collections, 0) AS DECIMAL(18,2)) AS actual_collections,
       CAST(CASE t.metric WHEN 'bookings' THEN coalesce(a.bookings, 0) ELSE coalesce(a.collections, 0) END AS DOUBLE)
         / nullif(round(t.target, 2), 0) AS attainment,
       getvariable('as_of') AS as_of
FROM pl_tgt_weeks t
LEFT JOIN a ON a.kind = CASE WHEN t.scope = 'rep' THEN 'rep' ELSE 'org' END AND a.scope_id = t.scope_id AND a.week_start = t.week_start
ORDER BY t.metric, t.scope, t.scope_id, t.week_start;
COMMENT ON TABLE mart_targets IS 'Targets per ISO week (Monday week_start) for every level: the targets set in the targets table, broken down to the levels below (models.targets.rule: historical_share or equal) unless a lower level has its own target, and spread over the working days (Mon–Fri, less public holidays, plus make-up working days). Actuals are those of the week up to as_of.';
COMMENT ON COLUMN mart_targets.scope IS 'The org unit''s level (company, region, branch, department) or rep.';
COMMENT ON COLUMN mart_targets.metric IS 'bookings or collections: which target this row is; attainment compares it with the actual of the same metric.';
COMMENT ON COLUMN mart_targets.target IS 'Target of the week (the days of the week inside a target period), base currency.';
COMMENT ON COLUMN mart_targets.actual_bookings IS 'Contracts signed in the week (signed_on <= as_of) by the scope (rep or reps in the unit''s subtree), base currency.';
COMMENT ON COLUMN mart_targets.actual_collections IS 'Payments received in the week (paid_on <= as_of), attributed to the contract''s owner rep (else the customer''s), base currency.';
COMMENT ON COLUMN mart_targets.attainment IS 'Actual of the row''s metric / target; NULL when the target is 0 (e.g. a holiday week).';

CREATE OR REPLACE TABLE mart_targets_monthly AS
WITH a AS (
    SELECT kind, scope_id, month, sum(bookings) AS bookings, sum(collections) AS collections
    FROM pl_tgt_actuals GROUP BY ALL
)
SELECT t.scope, t.scope_id, t.metric, t.month,
       CAST(round(t.target, 2) AS DECIMAL(18,2)) AS target,
       CAST(coalesce(a.bookings, 0) AS DECIMAL(18,2)) AS actual_bookings,
       CAST(coalesce(a.collections, 0) AS DECIMAL(18,2)) AS actual_collections,
       CAST(CASE t.metric WHEN 'bookings' THEN coalesce(a.bookings, 0) ELSE coalesce(a.collections, 0) END AS DOUBLE)
         / nullif(round(t.target, 2), 0) AS attainment,
       getvariable('as_of') AS as_of
FROM pl_tgt_months t
LEFT JOIN a ON a.kind = CASE WHEN t.scope = 'rep' THEN 'rep' ELSE 'org' END AND a.scope_id = t.scope_id AND a.month = t.month
ORDER BY t.metric, t.scope, t.scope_id, t.month;
COMMENT ON TABLE mart_targets_monthly IS 'The same breakdown as mart_targets per calendar month (YYYY-MM): what the forecast and the alerts compare with.';
