-- rep_performance: monthly bookings, collections and collection commission per rep.
-- Inputs: base_contracts, base_payments (prep.sql: the facts up to as_of);
-- live.contract_lines, live.products, live.reps, live.targets (schema live: without
-- the rows a snapshot load marked deleted).
-- A contract counts for the rep it names (the facts' rep_id; a contract naming no rep
-- counts for nobody, docs/models/collections.md), not for its customer's owner as in
-- the scope rule: bookings, collections and commission are the rep's own.
-- The rates are spliced from the configuration (models.rep_performance.base_rate,
-- .premium_rate); to run by hand replace {{.BaseRate}} and {{.PremiumRate}}.
--
-- Commission rule: a collection is split by the contract's price premium share
--   s = greatest(0, amount - list value) / amount
-- where list value = sum(contract_lines.quantity * products.list_price), both in the
-- base currency (the contract at its booking rate). s = 0 when the contract has no
-- lines, or when a line's product has no list price (no evidence of a premium).
--   collected_above_list       = collected * s
--   collected_at_or_below_list = collected - collected_above_list
--   commission = base_rate * at_or_below + premium_rate * above, in the month collected.
-- A refund is a negative collection and claws the commission back in its month.

CREATE OR REPLACE TEMP TABLE rp_contracts AS
WITH lines AS (
    SELECT l.contract_id,
           sum(CAST(l.quantity AS DECIMAL(38,3)) * p.list_price) AS list_value,
           count(*) AS n_lines,
           count(*) FILTER (WHERE p.list_price IS NULL) AS n_unpriced
    FROM live.contract_lines l
    LEFT JOIN live.products p ON p.product_id = l.product_id
    GROUP BY l.contract_id
)
SELECT c.contract_id, c.rep_id, c.signed_on, c.amount_base, l.list_value,
       CASE WHEN coalesce(l.n_lines, 0) = 0 OR l.n_unpriced > 0 OR c.amount_base IS NULL OR c.amount_base <= 0 THEN 0.0
            ELSE greatest(0.0, CAST(c.amount_base - l.list_value AS DOUBLE)) / CAST(c.amount_base AS DOUBLE)
       END AS premium_share
FROM base_contracts c
LEFT JOIN lines l ON l.contract_id = c.contract_id
WHERE c.rep_id IS NOT NULL;

CREATE OR REPLACE TEMP TABLE rp_months AS
WITH signed AS (
    SELECT rep_id, CAST(date_trunc('month', signed_on) AS DATE) AS month, sum(amount_base) AS signed
    FROM rp_contracts GROUP BY ALL
), collected AS (
    SELECT c.rep_id, CAST(date_trunc('month', p.paid_on) AS DATE) AS month,
           sum(p.amount_base) AS collected,
           round(sum(CAST(p.amount_base AS DOUBLE) * c.premium_share), 2) AS above
    FROM base_payments p
    JOIN rp_contracts c ON c.contract_id = p.contract_id
    GROUP BY ALL
), target_months AS (
    -- A target is spread over the calendar months its period touches, in
    -- proportion to its days in each month (a monthly target lands whole).
    SELECT t.scope_id AS rep_id, t.metric, CAST(m.month AS DATE) AS month,
           CAST(t.amount AS DOUBLE)
             * (date_diff('day', greatest(t.period_start, CAST(m.month AS DATE)), least(t.period_end, last_day(CAST(m.month AS DATE)))) + 1)
             / (date_diff('day', t.period_start, t.period_end) + 1) AS amount
    FROM live.targets t,
         LATERAL (SELECT unnest(generate_series(CAST(date_trunc('month', t.period_start) AS TIMESTAMP),
                                                CAST(t.period_end AS TIMESTAMP), INTERVAL 1 MONTH)) AS month) m
    WHERE t.scope = 'rep'
), targets_pivot AS (
    SELECT rep_id, month,
           sum(amount) FILTER (WHERE metric = 'bookings') AS target_bookings,
           sum(amount) FILTER (WHERE metric = 'collections') AS target_collections
    FROM target_months GROUP BY ALL
), keys AS (
    SELECT rep_id, month FROM signed
    UNION SELECT rep_id, month FROM collected
    UNION SELECT rep_id, month FROM targets_pivot
)
SELECT k.rep_id, k.month,
       coalesce(s.signed, 0) AS signed,
       coalesce(c.collected, 0) AS collected,
       coalesce(c.above, 0) AS above,
       t.target_bookings, t.target_collections
FROM keys k
LEFT JOIN signed s USING (rep_id, month)
LEFT JOIN collected c USING (rep_id, month)
LEFT JOIN targets_pivot t USING (rep_id, month)
WHERE k.month <= CAST(date_trunc('month', getvariable('as_of')) AS DATE);

CREATE OR REPLACE TABLE mart_rep_performance AS
SELECT m.rep_id, r.org_unit_id, m.month,
       CAST(m.signed AS DECIMAL(18,2)) AS signed,
       CAST(m.collected AS DECIMAL(18,2)) AS collected,
       CAST(m.collected - CAST(m.above AS DECIMAL(18,2)) AS DECIMAL(18,2)) AS collected_at_or_below_list,
       CAST(m.above AS DECIMAL(18,2)) AS collected_above_list,
       CAST(round({{.BaseRate}} * CAST(m.collected - CAST(m.above AS DECIMAL(18,2)) AS DOUBLE) + {{.PremiumRate}} * m.above, 2) AS DECIMAL(18,2)) AS commission,
       CAST(round(m.target_bookings, 2) AS DECIMAL(18,2)) AS target_bookings,
       CAST(round(m.target_collections, 2) AS DECIMAL(18,2)) AS target_collections,
       CASE WHEN m.target_collections > 0 THEN CAST(m.collected AS DOUBLE) / m.target_collections END AS attainment_collections
FROM rp_months m
LEFT JOIN live.reps r ON r.rep_id = m.rep_id
ORDER BY m.rep_id, m.month;

COMMENT ON TABLE mart_rep_performance IS 'Per rep and calendar month up to the as-of month: contracts signed, payments collected on the rep''s contracts, the collection commission and the rep''s targets. Base currency. Only months with a booking, a collection or a target have a row. See docs/models/collections.md.';
COMMENT ON COLUMN mart_rep_performance.org_unit_id IS 'The rep''s current org unit.';
COMMENT ON COLUMN mart_rep_performance.month IS 'First day of the calendar month.';
COMMENT ON COLUMN mart_rep_performance.signed IS 'Value of the contracts the rep owns signed in the month (booking rate).';
COMMENT ON COLUMN mart_rep_performance.collected IS 'Payments in the month on the rep''s contracts (rate of the payment day), refunds subtracted. Payments without a contract are not counted.';
COMMENT ON COLUMN mart_rep_performance.collected_above_list IS 'Part of collected above list price: collected x the contract''s premium share greatest(0, amount - list value) / amount; list value = sum(quantity x products.list_price). 0 for contracts without lines.';
COMMENT ON COLUMN mart_rep_performance.collected_at_or_below_list IS 'collected - collected_above_list.';
COMMENT ON COLUMN mart_rep_performance.commission IS 'base_rate x collected_at_or_below_list + premium_rate x collected_above_list (models.rep_performance.base_rate, default 0.03; premium_rate, default 0.10), earned in the month collected.';
COMMENT ON COLUMN mart_rep_performance.target_bookings IS 'Rep target (targets.scope = rep, metric bookings) for the month; a target over several months is spread by days.';
COMMENT ON COLUMN mart_rep_performance.target_collections IS 'Rep target for collections in the month, spread like target_bookings.';
COMMENT ON COLUMN mart_rep_performance.attainment_collections IS 'collected / target_collections (1.0 = 100 %); NULL without a positive target.';
