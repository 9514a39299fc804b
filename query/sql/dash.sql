-- Shared definitions of the dashboards, in schema "dash". `triscope serve`
-- (re)creates them at start (CREATE OR REPLACE), so they always match the
-- running version. An analyst can call them too:
--     SELECT * FROM dash.contracts('CNY') LIMIT 10;
--
-- DATA SCOPE (who sees which rows). Every row of customer data has an owner rep
-- and an owner org unit:
--   customers      owner_rep_id = customers.owner_rep_id,
--                  owner_org    = customers.org_unit_id (else the owner rep's unit)
--   opportunities, owner_rep_id = the row's owner_rep_id (else the customer's owner),
--   contracts      owner_org    = that rep's org unit (else the customer's org unit)
--   payments       owner = the owner of the paid contract (else of the customer)
--   activities     owner = the customer's owner, else the rep who logged it
--   targets        a rep target belongs to the rep and their unit; an org target to its unit
-- A user sees a row when
--   scope_all is true (executive, admin), or
--   owner_rep_id = scope_rep (a rep: their own customers and deals), or
--   owner_org is scope_org or below it in the org tree (a manager: their
--   subtree; an analyst: the unit assigned to them).
-- Anything NULL means "no": a user without a scope sees no rows.

CREATE SCHEMA IF NOT EXISTS dash;

-- LIVE ROWS. A snapshot load marks the rows missing from a source deleted
-- (_deleted_at) instead of removing them; the models and the dashboards
-- ignore them. Schema "live" has one view per base table without those rows,
-- and the dashboards read only these: live.payments, not main.payments.
CREATE SCHEMA IF NOT EXISTS live;
CREATE OR REPLACE VIEW live.org_units AS SELECT * EXCLUDE (_deleted_at) FROM main.org_units WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.reps AS SELECT * EXCLUDE (_deleted_at) FROM main.reps WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.customers AS SELECT * EXCLUDE (_deleted_at) FROM main.customers WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.products AS SELECT * EXCLUDE (_deleted_at) FROM main.products WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.partners AS SELECT * EXCLUDE (_deleted_at) FROM main.partners WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.campaigns AS SELECT * EXCLUDE (_deleted_at) FROM main.campaigns WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.stages AS SELECT * EXCLUDE (_deleted_at) FROM main.stages WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.opportunities AS SELECT * EXCLUDE (_deleted_at) FROM main.opportunities WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.opportunity_stages AS SELECT * EXCLUDE (_deleted_at) FROM main.opportunity_stages WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.contracts AS SELECT * EXCLUDE (_deleted_at) FROM main.contracts WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.contract_lines AS SELECT * EXCLUDE (_deleted_at) FROM main.contract_lines WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.payment_schedule AS SELECT * EXCLUDE (_deleted_at) FROM main.payment_schedule WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.payments AS SELECT * EXCLUDE (_deleted_at) FROM main.payments WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.expenses AS SELECT * EXCLUDE (_deleted_at) FROM main.expenses WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.activities AS SELECT * EXCLUDE (_deleted_at) FROM main.activities WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.targets AS SELECT * EXCLUDE (_deleted_at) FROM main.targets WHERE _deleted_at IS NULL;
CREATE OR REPLACE VIEW live.fx_rates AS SELECT * EXCLUDE (_deleted_at) FROM main.fx_rates WHERE _deleted_at IS NULL;

-- The unit `root` and every unit below it. NULL root: no rows.
CREATE OR REPLACE MACRO dash.org_subtree(root) AS TABLE
WITH RECURSIVE t(org_unit_id) AS (
    SELECT org_unit_id FROM live.org_units WHERE org_unit_id = root
    UNION
    SELECT o.org_unit_id FROM live.org_units o JOIN t ON o.parent_id = t.org_unit_id
)
SELECT org_unit_id FROM t;

-- Every (unit, ancestor) pair; depth 0 is the unit itself.
CREATE OR REPLACE MACRO dash.org_paths() AS TABLE
WITH RECURSIVE p(org_unit_id, ancestor_id, depth) AS (
    SELECT org_unit_id, org_unit_id, 0 FROM live.org_units
    UNION
    SELECT p.org_unit_id, o.parent_id, p.depth + 1
    FROM p JOIN live.org_units o ON o.org_unit_id = p.ancestor_id
    WHERE o.parent_id IS NOT NULL AND p.depth < 32
)
SELECT org_unit_id, ancestor_id, depth FROM p;

-- For the units below `node`: which child of `node` each one sits under.
-- NULL node: the roots of the tree are the children.
CREATE OR REPLACE MACRO dash.child_of(node) AS TABLE
SELECT p.org_unit_id, p.ancestor_id AS child_id
FROM dash.org_paths() p
JOIN live.org_units k ON k.org_unit_id = p.ancestor_id
WHERE k.parent_id IS NOT DISTINCT FROM node;

-- The scope predicate (see above). Always call it with the bound parameters
-- $scope_all, $scope_org, $scope_rep.
CREATE OR REPLACE MACRO dash.in_scope(owner_rep, owner_org, scope_all, scope_org, scope_rep) AS
    coalesce(scope_all, false)
    OR coalesce(owner_rep = scope_rep, false)
    OR coalesce(owner_org IN (SELECT s.org_unit_id FROM dash.org_subtree(scope_org) s), false);

-- The org filter: no filter (NULL) or the unit and everything below it.
CREATE OR REPLACE MACRO dash.under(owner_org, org) AS
    org IS NULL OR coalesce(owner_org IN (SELECT s.org_unit_id FROM dash.org_subtree(org) s), false);

-- Customers with their owner.
CREATE OR REPLACE MACRO dash.customers() AS TABLE
SELECT cu.customer_id, cu.name AS customer_name, cu.industry, cu.size_band, cu.city, cu.source,
       cu.lifecycle_stage, CAST(cu.created_at AS DATE) AS created_on,
       cu.owner_rep_id, coalesce(cu.org_unit_id, r.org_unit_id) AS owner_org
FROM live.customers cu
LEFT JOIN live.reps r ON r.rep_id = cu.owner_rep_id;

-- CONTRACTS, PAYMENTS AND OPPORTUNITIES with their owner, dimensions and the
-- amount in a base currency: dash.contracts(base), dash.payments(base),
-- dash.opportunities(base). They are computed from the base tables by the
-- *_computed macros below; when the server can write, it also keeps them as
-- tables (dash.contract_facts, dash.payment_facts, dash.opportunity_facts,
-- rebuilt after every load: dash_facts.sql) and dash.contracts(base) reads
-- those for the server's base currency (dash_fact_macros.sql).
--
-- Amounts in the base currency: a row in the base currency keeps its amount; the
-- others are converted exactly (DECIMAL) at the latest rate on or before the row's
-- date. Only those rows go through the ASOF join (which sorts its whole input):
-- joining every row made a query over the large company's 22 M payments 2.3x
-- slower.

-- Contracts (bookings) in the base currency at the rate of the signing day,
-- with the customer's industry, the deal's product line, channel and source.
CREATE OR REPLACE MACRO dash.contracts_computed(base) AS TABLE
SELECT c.contract_id, c.opportunity_id, c.customer_id, cu.name AS customer_name,
       coalesce(c.owner_rep_id, cu.owner_rep_id) AS owner_rep_id,
       coalesce(r.org_unit_id, cu.org_unit_id) AS owner_org,
       c.signed_on, c.start_on, c.end_on, c.status, c.amount, coalesce(c.currency, base) AS currency,
       coalesce(c.amount_same, x.amount_conv) AS amount_base,
       cu.industry, coalesce(o.source, cu.source) AS source, pr.product_line,
       o.partner_id, coalesce(pa.kind, 'direct') AS channel
FROM (SELECT *, CASE WHEN coalesce(currency, base) = base THEN amount END AS amount_same FROM live.contracts) c
LEFT JOIN (
    SELECT c.contract_id, CAST(CAST(c.amount AS DECIMAL(38,2)) * f.rate_to_base AS DECIMAL(18,2)) AS amount_conv
    FROM (SELECT * FROM live.contracts WHERE currency <> base) c
    ASOF LEFT JOIN live.fx_rates f ON f.currency = c.currency AND c.signed_on >= f.on_date
) x ON x.contract_id = c.contract_id
LEFT JOIN live.customers cu ON cu.customer_id = c.customer_id
LEFT JOIN live.reps r ON r.rep_id = coalesce(c.owner_rep_id, cu.owner_rep_id)
LEFT JOIN live.opportunities o ON o.opportunity_id = c.opportunity_id
LEFT JOIN live.products pr ON pr.product_id = o.product_id
LEFT JOIN live.partners pa ON pa.partner_id = o.partner_id;

-- Payments (collections) in the base currency at the rate of the payment day.
-- A negative amount is a refund.
CREATE OR REPLACE MACRO dash.payments_computed(base) AS TABLE
SELECT p.payment_id, p.contract_id, p.customer_id, cu.name AS customer_name,
       coalesce(c.owner_rep_id, cu.owner_rep_id) AS owner_rep_id,
       coalesce(r.org_unit_id, cu.org_unit_id) AS owner_org,
       p.paid_on, p.method, p.amount, coalesce(p.currency, base) AS currency,
       coalesce(p.amount_same, x.amount_conv) AS amount_base,
       cu.industry, coalesce(o.source, cu.source) AS source, pr.product_line,
       o.partner_id, coalesce(pa.kind, 'direct') AS channel
FROM (SELECT *, CASE WHEN coalesce(currency, base) = base THEN amount END AS amount_same FROM live.payments) p
LEFT JOIN (
    SELECT p.payment_id, CAST(CAST(p.amount AS DECIMAL(38,2)) * f.rate_to_base AS DECIMAL(18,2)) AS amount_conv
    FROM (SELECT * FROM live.payments WHERE currency <> base) p
    ASOF LEFT JOIN live.fx_rates f ON f.currency = p.currency AND p.paid_on >= f.on_date
) x ON x.payment_id = p.payment_id
LEFT JOIN live.contracts c ON c.contract_id = p.contract_id
LEFT JOIN live.customers cu ON cu.customer_id = p.customer_id
LEFT JOIN live.reps r ON r.rep_id = coalesce(c.owner_rep_id, cu.owner_rep_id)
LEFT JOIN live.opportunities o ON o.opportunity_id = c.opportunity_id
LEFT JOIN live.products pr ON pr.product_id = o.product_id
LEFT JOIN live.partners pa ON pa.partner_id = o.partner_id;

-- Opportunities in the base currency at the rate of the day they were created.
-- probability: the deal's own, else its stage's default (percent).
CREATE OR REPLACE MACRO dash.opportunities_computed(base) AS TABLE
SELECT o.opportunity_id, o.customer_id, cu.name AS customer_name,
       coalesce(o.owner_rep_id, cu.owner_rep_id) AS owner_rep_id,
       coalesce(r.org_unit_id, cu.org_unit_id) AS owner_org,
       CAST(o.created_at AS DATE) AS created_on, o.expected_close_on, o.closed_on, o.status,
       o.stage, st.position AS stage_position, coalesce(o.probability, st.default_probability) AS probability,
       o.amount, coalesce(o.currency, base) AS currency,
       coalesce(o.amount_same, x.amount_conv) AS amount_base,
       cu.industry, coalesce(o.source, cu.source) AS source, pr.product_line,
       o.partner_id, coalesce(pa.kind, 'direct') AS channel, o.close_reason, o.competitor
FROM (SELECT *, CASE WHEN coalesce(currency, base) = base THEN amount END AS amount_same FROM live.opportunities) o
LEFT JOIN (
    SELECT o.opportunity_id, CAST(CAST(o.amount AS DECIMAL(38,2)) * f.rate_to_base AS DECIMAL(18,2)) AS amount_conv
    FROM (SELECT * FROM live.opportunities WHERE currency <> base) o
    ASOF LEFT JOIN live.fx_rates f ON f.currency = o.currency AND CAST(o.created_at AS DATE) >= f.on_date
) x ON x.opportunity_id = o.opportunity_id
LEFT JOIN live.customers cu ON cu.customer_id = o.customer_id
LEFT JOIN live.reps r ON r.rep_id = coalesce(o.owner_rep_id, cu.owner_rep_id)
LEFT JOIN live.stages st ON st.stage = o.stage
LEFT JOIN live.products pr ON pr.product_id = o.product_id
LEFT JOIN live.partners pa ON pa.partner_id = o.partner_id;

-- Targets with their owner: a rep target belongs to the rep (and the rep's
-- unit); an org target to its unit.
CREATE OR REPLACE MACRO dash.targets() AS TABLE
SELECT t.scope, t.scope_id, t.period_start, t.period_end, t.metric, t.amount,
       CASE WHEN t.scope = 'rep' THEN t.scope_id END AS owner_rep_id,
       CASE WHEN t.scope = 'rep' THEN r.org_unit_id ELSE t.scope_id END AS owner_org
FROM live.targets t
LEFT JOIN live.reps r ON t.scope = 'rep' AND r.rep_id = t.scope_id;

-- Activities with their owner: the customer's owner (an activity belongs to
-- its customer's owner for data scopes), else the rep who logged it.
-- occurred_on is the day in the database's time zone.
CREATE OR REPLACE MACRO dash.activities_computed() AS TABLE
SELECT a.activity_id, a.customer_id, a.opportunity_id, a.rep_id, a.kind, a.occurred_at,
       CAST(a.occurred_at AS DATE) AS occurred_on, a.campaign_id, cu.name AS customer_name,
       coalesce(cu.owner_rep_id, a.rep_id) AS owner_rep_id,
       coalesce(cu.org_unit_id, cr.org_unit_id, ar.org_unit_id) AS owner_org
FROM live.activities a
LEFT JOIN live.customers cu ON cu.customer_id = a.customer_id
LEFT JOIN live.reps cr ON cr.rep_id = cu.owner_rep_id
LEFT JOIN live.reps ar ON ar.rep_id = a.rep_id;

-- Without the fact tables: computed on every call.
CREATE OR REPLACE MACRO dash.contracts(base) AS TABLE SELECT * FROM dash.contracts_computed(base);
CREATE OR REPLACE MACRO dash.payments(base) AS TABLE SELECT * FROM dash.payments_computed(base);
CREATE OR REPLACE MACRO dash.opportunities(base) AS TABLE SELECT * FROM dash.opportunities_computed(base);
CREATE OR REPLACE MACRO dash.activities() AS TABLE SELECT * FROM dash.activities_computed();

-- Alerts with the owner of their subject: no rows until the alerts model has
-- run; then dash_alerts_mart.sql replaces this with one on mart_alerts.
CREATE OR REPLACE MACRO dash.alerts(base) AS TABLE
SELECT CAST(NULL AS VARCHAR) AS kind, CAST(NULL AS VARCHAR) AS severity, CAST(NULL AS VARCHAR) AS subject_type,
       CAST(NULL AS VARCHAR) AS subject_id, CAST(NULL AS VARCHAR) AS detail, CAST(NULL AS DATE) AS since,
       CAST(NULL AS VARCHAR) AS customer_id, CAST(NULL AS VARCHAR) AS subject_name,
       CAST(NULL AS VARCHAR) AS owner_rep_id, CAST(NULL AS VARCHAR) AS owner_org
WHERE false;
