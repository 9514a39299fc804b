-- The shared facts: every row of customer data with its owner (rep and org
-- unit), its dimensions and its amount in the base currency, built on the
-- write path — inside the transaction of every load, and at start when they
-- are missing, older than the last committed load or built from other
-- definitions (facts.state). Dashboards, reports and ad hoc SQL read them
-- through the scoped relations (access/sql/scoped.sql); a chart scans one
-- table instead of joining the base tables on every call (on the large demo
-- company a year's collections by org unit: 4.3 s computed, 0.2 s from the
-- table). {{.Base}} is the base currency (a checked 3-letter code).
--
-- OWNERSHIP (the rule of access.Scope):
--   customers      owner_rep_id = customers.owner_rep_id,
--                  owner_org    = customers.org_unit_id (else the owner rep's unit)
--   opportunities, owner_rep_id = the row's owner_rep_id (else the customer's owner),
--   contracts      owner_org    = that rep's org unit (else the customer's org unit)
--   payments       the owner of the paid contract (else of the customer)
--   activities     the customer's owner, else the rep who logged it
--   expenses       the owner of its contract, else of its deal, else of its customer
--
-- FX: a row in the base currency keeps its amount; the others are converted
-- exactly (DECIMAL) at the latest rate on or before the row's date. Only
-- those rows go through the ASOF join (which sorts its whole input): joining
-- every row made a query over the large company's 22 M payments 2.3x slower.
-- Tables are ordered by date, so that a chart of one period skips the other
-- row groups.
CREATE SCHEMA IF NOT EXISTS facts;

-- Every (unit, ancestor) pair of the org tree; depth 0 is the unit itself.
CREATE OR REPLACE TABLE facts.org_paths AS
WITH RECURSIVE p(org_unit_id, ancestor_id, depth) AS (
    SELECT org_unit_id, org_unit_id, 0 FROM live.org_units
    UNION
    SELECT p.org_unit_id, o.parent_id, p.depth + 1
    FROM p JOIN live.org_units o ON o.org_unit_id = p.ancestor_id
    WHERE o.parent_id IS NOT NULL AND p.depth < 32
)
SELECT org_unit_id, ancestor_id, depth FROM p ORDER BY ancestor_id, org_unit_id;

-- Customers with their owner.
CREATE OR REPLACE TABLE facts.customers AS
SELECT cu.customer_id, cu.name AS customer_name, cu.industry, cu.size_band, cu.city, cu.source,
       cu.lifecycle_stage, CAST(cu.created_at AS DATE) AS created_on,
       cu.owner_rep_id, coalesce(cu.org_unit_id, r.org_unit_id) AS owner_org
FROM live.customers cu
LEFT JOIN live.reps r ON r.rep_id = cu.owner_rep_id
ORDER BY cu.customer_id;

-- Contracts (bookings) in the base currency at the rate of the signing day,
-- with the customer's industry, the deal's product line, channel and source.
CREATE OR REPLACE TABLE facts.contracts AS
SELECT c.contract_id, c.opportunity_id, c.customer_id, cu.name AS customer_name,
       coalesce(c.owner_rep_id, cu.owner_rep_id) AS owner_rep_id,
       coalesce(r.org_unit_id, cu.org_unit_id) AS owner_org,
       c.signed_on, c.start_on, c.end_on, c.status, c.amount, coalesce(c.currency, '{{.Base}}') AS currency,
       coalesce(c.amount_same, x.amount_conv) AS amount_base,
       cu.industry, coalesce(o.source, cu.source) AS source, pr.product_line,
       o.partner_id, coalesce(pa.kind, 'direct') AS channel
FROM (SELECT *, CASE WHEN coalesce(currency, '{{.Base}}') = '{{.Base}}' THEN amount END AS amount_same FROM live.contracts) c
LEFT JOIN (
    SELECT c.contract_id, CAST(CAST(c.amount AS DECIMAL(38,2)) * f.rate_to_base AS DECIMAL(18,2)) AS amount_conv
    FROM (SELECT * FROM live.contracts WHERE currency <> '{{.Base}}') c
    ASOF LEFT JOIN live.fx_rates f ON f.currency = c.currency AND c.signed_on >= f.on_date
) x ON x.contract_id = c.contract_id
LEFT JOIN live.customers cu ON cu.customer_id = c.customer_id
LEFT JOIN live.reps r ON r.rep_id = coalesce(c.owner_rep_id, cu.owner_rep_id)
LEFT JOIN live.opportunities o ON o.opportunity_id = c.opportunity_id
LEFT JOIN live.products pr ON pr.product_id = o.product_id
LEFT JOIN live.partners pa ON pa.partner_id = o.partner_id
ORDER BY c.signed_on;

-- Payments (collections) in the base currency at the rate of the payment day.
-- A negative amount is a refund.
CREATE OR REPLACE TABLE facts.payments AS
SELECT p.payment_id, p.contract_id, p.customer_id, cu.name AS customer_name,
       coalesce(c.owner_rep_id, cu.owner_rep_id) AS owner_rep_id,
       coalesce(r.org_unit_id, cu.org_unit_id) AS owner_org,
       p.paid_on, p.method, p.amount, coalesce(p.currency, '{{.Base}}') AS currency,
       coalesce(p.amount_same, x.amount_conv) AS amount_base,
       cu.industry, coalesce(o.source, cu.source) AS source, pr.product_line,
       o.partner_id, coalesce(pa.kind, 'direct') AS channel
FROM (SELECT *, CASE WHEN coalesce(currency, '{{.Base}}') = '{{.Base}}' THEN amount END AS amount_same FROM live.payments) p
LEFT JOIN (
    SELECT p.payment_id, CAST(CAST(p.amount AS DECIMAL(38,2)) * f.rate_to_base AS DECIMAL(18,2)) AS amount_conv
    FROM (SELECT * FROM live.payments WHERE currency <> '{{.Base}}') p
    ASOF LEFT JOIN live.fx_rates f ON f.currency = p.currency AND p.paid_on >= f.on_date
) x ON x.payment_id = p.payment_id
LEFT JOIN live.contracts c ON c.contract_id = p.contract_id
LEFT JOIN live.customers cu ON cu.customer_id = p.customer_id
LEFT JOIN live.reps r ON r.rep_id = coalesce(c.owner_rep_id, cu.owner_rep_id)
LEFT JOIN live.opportunities o ON o.opportunity_id = c.opportunity_id
LEFT JOIN live.products pr ON pr.product_id = o.product_id
LEFT JOIN live.partners pa ON pa.partner_id = o.partner_id
ORDER BY p.paid_on;

-- Opportunities in the base currency at the rate of the day they were created.
-- probability: the deal's own, else its stage's default (percent).
CREATE OR REPLACE TABLE facts.opportunities AS
SELECT o.opportunity_id, o.customer_id, cu.name AS customer_name,
       coalesce(o.owner_rep_id, cu.owner_rep_id) AS owner_rep_id,
       coalesce(r.org_unit_id, cu.org_unit_id) AS owner_org,
       CAST(o.created_at AS DATE) AS created_on, o.expected_close_on, o.closed_on, o.status,
       o.stage, st.position AS stage_position, coalesce(o.probability, st.default_probability) AS probability,
       o.amount, coalesce(o.currency, '{{.Base}}') AS currency,
       coalesce(o.amount_same, x.amount_conv) AS amount_base,
       cu.industry, coalesce(o.source, cu.source) AS source, pr.product_line,
       o.partner_id, coalesce(pa.kind, 'direct') AS channel, o.close_reason, o.competitor
FROM (SELECT *, CASE WHEN coalesce(currency, '{{.Base}}') = '{{.Base}}' THEN amount END AS amount_same FROM live.opportunities) o
LEFT JOIN (
    SELECT o.opportunity_id, CAST(CAST(o.amount AS DECIMAL(38,2)) * f.rate_to_base AS DECIMAL(18,2)) AS amount_conv
    FROM (SELECT * FROM live.opportunities WHERE currency <> '{{.Base}}') o
    ASOF LEFT JOIN live.fx_rates f ON f.currency = o.currency AND CAST(o.created_at AS DATE) >= f.on_date
) x ON x.opportunity_id = o.opportunity_id
LEFT JOIN live.customers cu ON cu.customer_id = o.customer_id
LEFT JOIN live.reps r ON r.rep_id = coalesce(o.owner_rep_id, cu.owner_rep_id)
LEFT JOIN live.stages st ON st.stage = o.stage
LEFT JOIN live.products pr ON pr.product_id = o.product_id
LEFT JOIN live.partners pa ON pa.partner_id = o.partner_id
ORDER BY created_on;

-- Activities with their owner: the customer's owner (an activity belongs to
-- its customer's owner for data scopes), else the rep who logged it.
-- occurred_on is the day in the database's time zone.
CREATE OR REPLACE TABLE facts.activities AS
SELECT a.activity_id, a.customer_id, a.opportunity_id, a.rep_id, a.kind, a.occurred_at,
       CAST(a.occurred_at AS DATE) AS occurred_on, a.campaign_id, cu.name AS customer_name,
       coalesce(cu.owner_rep_id, a.rep_id) AS owner_rep_id,
       coalesce(cu.org_unit_id, cr.org_unit_id, ar.org_unit_id) AS owner_org
FROM live.activities a
LEFT JOIN live.customers cu ON cu.customer_id = a.customer_id
LEFT JOIN live.reps cr ON cr.rep_id = cu.owner_rep_id
LEFT JOIN live.reps ar ON ar.rep_id = a.rep_id
ORDER BY occurred_on;

-- Every owner of a customer's rows, by the kind of row (source): the
-- customer itself, its contracts, payments, deals, activities and expenses.
-- A customer-level figure (RFM, CLV, margin) is visible to a user only when
-- the owners of the rows it is computed from are all in the user's scope
-- (access.Scope, "the scope rule"): RFM and CLV come from the payments, the
-- cross-sell from the contracts, the 7P value from all of them.
CREATE OR REPLACE TABLE facts.customer_owners AS
SELECT DISTINCT customer_id, source, owner_rep_id, owner_org FROM (
    SELECT customer_id, 'customer' AS source, owner_rep_id, owner_org FROM facts.customers
    UNION ALL SELECT customer_id, 'contract', owner_rep_id, owner_org FROM facts.contracts
    UNION ALL SELECT customer_id, 'payment', owner_rep_id, owner_org FROM facts.payments
    UNION ALL SELECT customer_id, 'opportunity', owner_rep_id, owner_org FROM facts.opportunities
    UNION ALL SELECT customer_id, 'activity', owner_rep_id, owner_org FROM facts.activities
    UNION ALL
    SELECT e.customer_id, 'expense', coalesce(c.owner_rep_id, o.owner_rep_id, cu.owner_rep_id),
           coalesce(c.owner_org, o.owner_org, cu.owner_org)
    FROM live.expenses e
    LEFT JOIN facts.contracts c ON c.contract_id = e.contract_id
    LEFT JOIN facts.opportunities o ON o.opportunity_id = e.opportunity_id
    LEFT JOIN facts.customers cu ON cu.customer_id = e.customer_id
)
WHERE customer_id IS NOT NULL
ORDER BY customer_id;

CREATE OR REPLACE TABLE facts.state AS
SELECT CAST({{.LoadID}} AS BIGINT) AS load_id, '{{.Base}}' AS base_currency,
       '{{.Definition}}' AS definition, now() AS built_at;
