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
-- The models read these facts too (models/sql/prep.sql): where a model needs
-- the row as loaded rather than the owner of the scope rule, the facts carry
-- it beside (rep_id, rep_org: the rep the row itself names and that rep's
-- unit; deal_source: the deal's own source).
--
-- FX: a row in the base currency (or with no currency) keeps its amount; the
-- others are converted exactly (DECIMAL) at the latest rate on or before the
-- row's date: CAST(CAST(amount AS DECIMAL(38,2)) * rate_to_base AS
-- DECIMAL(18,2)) (DECIMAL(18,2) times a DECIMAL(18,8) rate would be
-- DECIMAL(18,10), which overflows from 10^8 up). A non-base amount with no
-- rate keeps amount_base NULL: the loader refuses such rows, so this only
-- happens when fx_rates rows were removed afterwards. Only the non-base rows
-- go through the ASOF join (which sorts its whole input): joining every row
-- made a query over the large company's 22 M payments 2.3x slower.
-- Tables are ordered by date, so that a chart of one period (and a model's
-- as-of date) skips the other row groups.
--
-- One definition, two ways of building (models/facts.go): in full (every
-- table re-created) or, with .Delta, for the rows the loads since the last
-- build changed (facts_delta_keys.sql lists their keys in the fd_* temp
-- tables; each table deletes those keys and re-inserts them through the same
-- SELECT, filtered): a daily load costs what it touched, not the company.
CREATE SCHEMA IF NOT EXISTS facts;

-- Every (unit, ancestor) pair of the org tree, once, with the number of
-- levels between them (depth 0 is the unit itself). A cycle in parent_id is
-- cut at 50 levels and each pair keeps its shortest distance. Nothing else
-- reads org_units: a delta rebuilds it only when they changed.
{{if or (not .Delta) .OrgChanged -}}
CREATE OR REPLACE TABLE facts.org_paths AS
WITH RECURSIVE p(org_unit_id, ancestor_id, depth) AS (
    SELECT org_unit_id, org_unit_id, 0 FROM live.org_units
    UNION ALL
    SELECT p.org_unit_id, o.parent_id, p.depth + 1
    FROM p JOIN live.org_units o ON o.org_unit_id = p.ancestor_id
    WHERE o.parent_id IS NOT NULL AND p.depth < 50
)
SELECT org_unit_id, ancestor_id, min(depth) AS depth FROM p GROUP BY ALL ORDER BY ancestor_id, org_unit_id;
{{- end}}

-- Customers with their owner.
{{if .Delta -}}
DELETE FROM facts.customers WHERE customer_id IN (SELECT customer_id FROM fd_customers);
INSERT INTO facts.customers
{{- else -}}
CREATE OR REPLACE TABLE facts.customers AS
{{- end}}
SELECT cu.customer_id, cu.name AS customer_name, cu.industry, cu.size_band, cu.city, cu.source,
       cu.lifecycle_stage, CAST(cu.created_at AS DATE) AS created_on,
       cu.owner_rep_id, coalesce(cu.org_unit_id, r.org_unit_id) AS owner_org
FROM {{if .Delta}}fd_rows_customers{{else}}live.customers{{end}} cu
LEFT JOIN live.reps r ON r.rep_id = cu.owner_rep_id
ORDER BY cu.customer_id;

-- Contracts (bookings) in the base currency at the rate of the signing day
-- (rate_to_base: the booking rate, 1 in the base currency), with the
-- customer's industry, the deal's product, product line, channel and source.
-- rep_id is the contract's own owner_rep_id (NULL when it names none) and
-- rep_org that rep's org unit.
{{if .Delta -}}
DELETE FROM facts.contracts WHERE contract_id IN (SELECT contract_id FROM fd_contracts);
INSERT INTO facts.contracts
{{- else -}}
CREATE OR REPLACE TABLE facts.contracts AS
{{- end}}
SELECT c.contract_id, c.opportunity_id, c.customer_id, cu.name AS customer_name,
       coalesce(c.owner_rep_id, cu.owner_rep_id) AS owner_rep_id,
       coalesce(r.org_unit_id, cu.org_unit_id) AS owner_org,
       c.signed_on, c.start_on, c.end_on, c.status, c.amount, coalesce(c.currency, '{{.Base}}') AS currency,
       coalesce(c.amount_same, x.amount_conv) AS amount_base,
       cu.industry, coalesce(o.source, cu.source) AS source, pr.product_line,
       o.partner_id, coalesce(pa.kind, 'direct') AS channel,
       CASE WHEN c.amount_same IS NOT NULL THEN CAST(1 AS DECIMAL(18,8)) ELSE x.rate_to_base END AS rate_to_base,
       c.owner_rep_id AS rep_id, CASE WHEN c.owner_rep_id IS NOT NULL THEN r.org_unit_id END AS rep_org,
       o.product_id
FROM (SELECT *, CASE WHEN coalesce(currency, '{{.Base}}') = '{{.Base}}' THEN amount END AS amount_same FROM {{if .Delta}}fd_rows_contracts{{else}}live.contracts{{end}}) c
LEFT JOIN (
    SELECT c.contract_id, CAST(CAST(c.amount AS DECIMAL(38,2)) * f.rate_to_base AS DECIMAL(18,2)) AS amount_conv, f.rate_to_base
    FROM (SELECT * FROM {{if .Delta}}fd_rows_contracts{{else}}live.contracts{{end}} WHERE currency <> '{{.Base}}') c
    ASOF LEFT JOIN live.fx_rates f ON f.currency = c.currency AND c.signed_on >= f.on_date
) x ON x.contract_id = c.contract_id
LEFT JOIN live.customers cu ON cu.customer_id = c.customer_id
LEFT JOIN live.reps r ON r.rep_id = coalesce(c.owner_rep_id, cu.owner_rep_id)
LEFT JOIN live.opportunities o ON o.opportunity_id = c.opportunity_id
LEFT JOIN live.products pr ON pr.product_id = o.product_id
LEFT JOIN live.partners pa ON pa.partner_id = o.partner_id
ORDER BY c.signed_on;

-- The change log of the payments' keys: per load, the customer and contract
-- of each payment it moved elsewhere or deleted, as they were before
-- (fd_payment_moves, facts_delta_keys.sql). The models' per-key caches (a
-- contract's installments, a customer's payment sums) recompute those keys
-- too. It holds every load after facts.state.changes_from: a full build
-- starts it empty, and the loads more than 366 loads old are dropped (a
-- cache older than that is rebuilt: models/cache.go).
{{if .Delta -}}
INSERT INTO facts.payment_changes SELECT {{.LoadID}}, customer_id, contract_id FROM fd_payment_moves;
DELETE FROM facts.payment_changes WHERE load_id <= {{.LoadID}} - 366;
{{- else -}}
CREATE OR REPLACE TABLE facts.payment_changes (load_id BIGINT NOT NULL, customer_id VARCHAR, contract_id VARCHAR);
{{- end}}

-- Payments (collections) in the base currency at the rate of the payment day.
-- A negative amount is a refund.
{{if .Delta -}}
DELETE FROM facts.payments WHERE payment_id IN (SELECT payment_id FROM fd_payments);
INSERT INTO facts.payments
{{- else -}}
CREATE OR REPLACE TABLE facts.payments AS
{{- end}}
SELECT p.payment_id, p.contract_id, p.customer_id, cu.name AS customer_name,
       coalesce(c.owner_rep_id, cu.owner_rep_id) AS owner_rep_id,
       coalesce(r.org_unit_id, cu.org_unit_id) AS owner_org,
       p.paid_on, p.method, p.amount, coalesce(p.currency, '{{.Base}}') AS currency,
       coalesce(p.amount_same, x.amount_conv) AS amount_base,
       cu.industry, coalesce(o.source, cu.source) AS source, pr.product_line,
       o.partner_id, coalesce(pa.kind, 'direct') AS channel
FROM (SELECT *, CASE WHEN coalesce(currency, '{{.Base}}') = '{{.Base}}' THEN amount END AS amount_same FROM {{if .Delta}}fd_rows_payments{{else}}live.payments{{end}}) p
LEFT JOIN (
    SELECT p.payment_id, CAST(CAST(p.amount AS DECIMAL(38,2)) * f.rate_to_base AS DECIMAL(18,2)) AS amount_conv
    FROM (SELECT * FROM {{if .Delta}}fd_rows_payments{{else}}live.payments{{end}} WHERE currency <> '{{.Base}}') p
    ASOF LEFT JOIN live.fx_rates f ON f.currency = p.currency AND p.paid_on >= f.on_date
) x ON x.payment_id = p.payment_id
LEFT JOIN live.contracts c ON c.contract_id = p.contract_id
LEFT JOIN live.customers cu ON cu.customer_id = p.customer_id
LEFT JOIN live.reps r ON r.rep_id = coalesce(c.owner_rep_id, cu.owner_rep_id)
LEFT JOIN live.opportunities o ON o.opportunity_id = c.opportunity_id
LEFT JOIN live.products pr ON pr.product_id = o.product_id
LEFT JOIN live.partners pa ON pa.partner_id = o.partner_id
ORDER BY p.paid_on;

-- Paying customers by month: one row per customer, year and the
-- dimensions and owner a payment carries, with a bit for each month of that
-- year in which the customer made a payment of amount >= 0 (bit 0 is
-- January): what the Magnifier's paying customers count, whole months at a
-- time (magnifier_trend.sql, magnifier_breakdown.sql; the days of a period's
-- partial months come from facts.payments). Ordered by year, so that a
-- period skips the other years. On the large demo company 2.9 M rows for 22.7
-- M payments: the trend of 12 months with the year before counted 1.7 s from
-- the payments, 0.5 s from these. A delta regroups the customers of the
-- changed payments, as the facts held them before it and as they hold them
-- after (fd_payment_customers: a payment moved to another customer changes
-- both).
{{if .Delta -}}
INSERT INTO fd_payment_customers
SELECT customer_id FROM facts.payments WHERE payment_id IN (SELECT payment_id FROM fd_payments);
DELETE FROM facts.paying_months WHERE customer_id IN (SELECT customer_id FROM fd_payment_customers);
INSERT INTO facts.paying_months
{{- else -}}
CREATE OR REPLACE TABLE facts.paying_months AS
{{- end}}
SELECT customer_id, CAST(year(paid_on) AS SMALLINT) AS year,
       owner_rep_id, owner_org, industry, source, product_line, channel,
       CAST(bit_or(CAST(1 AS USMALLINT) << CAST(month(paid_on) - 1 AS INTEGER)) AS USMALLINT) AS months
FROM facts.payments
WHERE amount >= 0{{if .Delta}} AND customer_id IN (SELECT customer_id FROM fd_payment_customers){{end}}
GROUP BY ALL
ORDER BY year, customer_id;

-- Collections by month: the payments' amount_base summed per month, owner
-- and product line, what the collection KPIs of a period sum over its whole
-- months (scoped.collections_in; the days of a partial first and last month
-- come from facts.payments). A payment's visibility is its owner's, so each
-- row is visible exactly when its payments are. On the large demo company
-- 138 K rows for 22 M payments: a manager's collections of ten months 107 ms
-- from the payments, 4 ms from these. A delta regroups the months of the
-- changed payments, as the facts held them before it and as they hold them
-- after (fd_payment_months).
{{if .Delta -}}
INSERT INTO fd_payment_months
SELECT DISTINCT CAST(date_trunc('month', paid_on) AS DATE) FROM facts.payments WHERE payment_id IN (SELECT payment_id FROM fd_payments);
DELETE FROM facts.collection_months WHERE month IN (SELECT month FROM fd_payment_months);
INSERT INTO facts.collection_months
{{- else -}}
CREATE OR REPLACE TABLE facts.collection_months AS
{{- end}}
SELECT CAST(date_trunc('month', paid_on) AS DATE) AS month, owner_rep_id, owner_org, product_line,
       sum(amount_base) AS amount_base, count(*) AS payments
FROM facts.payments
{{- if .Delta}}
WHERE paid_on BETWEEN (SELECT min(month) FROM fd_payment_months) AND (SELECT last_day(max(month)) FROM fd_payment_months)
  AND CAST(date_trunc('month', paid_on) AS DATE) IN (SELECT month FROM fd_payment_months)
{{- end}}
GROUP BY ALL
ORDER BY month;

-- Opportunities in the base currency at the rate of the day they were created.
-- probability: the deal's own, else its stage's default (percent). rep_id is
-- the deal's own owner_rep_id (NULL when it names none), rep_org that rep's
-- org unit, deal_source the deal's own source (source falls back to the
-- customer's); created_on is the day of created_at in the time zone of
-- facts.state.
{{if .Delta -}}
DELETE FROM facts.opportunities WHERE opportunity_id IN (SELECT opportunity_id FROM fd_opportunities);
INSERT INTO facts.opportunities
{{- else -}}
CREATE OR REPLACE TABLE facts.opportunities AS
{{- end}}
SELECT o.opportunity_id, o.customer_id, cu.name AS customer_name,
       coalesce(o.owner_rep_id, cu.owner_rep_id) AS owner_rep_id,
       coalesce(r.org_unit_id, cu.org_unit_id) AS owner_org,
       CAST(o.created_at AS DATE) AS created_on, o.expected_close_on, o.closed_on, o.status,
       o.stage, st.position AS stage_position, coalesce(o.probability, st.default_probability) AS probability,
       o.amount, coalesce(o.currency, '{{.Base}}') AS currency,
       coalesce(o.amount_same, x.amount_conv) AS amount_base,
       cu.industry, coalesce(o.source, cu.source) AS source, pr.product_line,
       o.partner_id, coalesce(pa.kind, 'direct') AS channel, o.close_reason, o.competitor,
       o.owner_rep_id AS rep_id, CASE WHEN o.owner_rep_id IS NOT NULL THEN r.org_unit_id END AS rep_org,
       o.source AS deal_source, o.product_id, o.campaign_id, o.created_at
FROM (SELECT *, CASE WHEN coalesce(currency, '{{.Base}}') = '{{.Base}}' THEN amount END AS amount_same FROM {{if .Delta}}fd_rows_opportunities{{else}}live.opportunities{{end}}) o
LEFT JOIN (
    SELECT o.opportunity_id, CAST(CAST(o.amount AS DECIMAL(38,2)) * f.rate_to_base AS DECIMAL(18,2)) AS amount_conv
    FROM (SELECT * FROM {{if .Delta}}fd_rows_opportunities{{else}}live.opportunities{{end}} WHERE currency <> '{{.Base}}') o
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
{{if .Delta -}}
DELETE FROM facts.activities WHERE activity_id IN (SELECT activity_id FROM fd_activities);
INSERT INTO facts.activities
{{- else -}}
CREATE OR REPLACE TABLE facts.activities AS
{{- end}}
SELECT a.activity_id, a.customer_id, a.opportunity_id, a.rep_id, a.kind, a.occurred_at,
       CAST(a.occurred_at AS DATE) AS occurred_on, a.campaign_id, cu.name AS customer_name,
       coalesce(cu.owner_rep_id, a.rep_id) AS owner_rep_id,
       coalesce(cu.org_unit_id, cr.org_unit_id, ar.org_unit_id) AS owner_org
FROM {{if .Delta}}fd_rows_activities{{else}}live.activities{{end}} a
LEFT JOIN live.customers cu ON cu.customer_id = a.customer_id
LEFT JOIN live.reps cr ON cr.rep_id = cu.owner_rep_id
LEFT JOIN live.reps ar ON ar.rep_id = a.rep_id
ORDER BY occurred_on;

-- Expenses in the base currency at the rate of the day they were incurred,
-- with their customer (the expense's own, else its contract's, else its
-- deal's: the customer whose 7P margin it lowers, and whose customer_owners
-- row it is) and their owner (the owner of its contract, else of its deal,
-- else of its customer). Only what the models and the scope need: the rest
-- of an expense is in live.expenses (by expense_id); the five columns more
-- cost 45 % more to build (0.8 s of CPU on the default demo company's 0.6 M
-- expenses), at every load.
{{if .Delta -}}
DELETE FROM facts.expenses WHERE expense_id IN (SELECT expense_id FROM fd_expenses);
INSERT INTO facts.expenses
{{- else -}}
CREATE OR REPLACE TABLE facts.expenses AS
{{- end}}
SELECT e.expense_id, coalesce(e.customer_id, c.customer_id, o.customer_id) AS customer_id,
       e.incurred_on, coalesce(e.amount_same, x.amount_conv) AS amount_base,
       coalesce(c.owner_rep_id, o.owner_rep_id, cu.owner_rep_id) AS owner_rep_id,
       coalesce(c.owner_org, o.owner_org, cu.owner_org) AS owner_org
FROM (SELECT *, CASE WHEN coalesce(currency, '{{.Base}}') = '{{.Base}}' THEN amount END AS amount_same FROM {{if .Delta}}fd_rows_expenses{{else}}live.expenses{{end}}) e
LEFT JOIN (
    SELECT e.expense_id, CAST(CAST(e.amount AS DECIMAL(38,2)) * f.rate_to_base AS DECIMAL(18,2)) AS amount_conv
    FROM (SELECT * FROM {{if .Delta}}fd_rows_expenses{{else}}live.expenses{{end}} WHERE currency <> '{{.Base}}') e
    ASOF LEFT JOIN live.fx_rates f ON f.currency = e.currency AND e.incurred_on >= f.on_date
) x ON x.expense_id = e.expense_id
LEFT JOIN facts.contracts c ON c.contract_id = e.contract_id
LEFT JOIN facts.opportunities o ON o.opportunity_id = e.opportunity_id
LEFT JOIN facts.customers cu ON cu.customer_id = e.customer_id
ORDER BY e.incurred_on;

-- The owners of a customer's rows other than the customer's own owner, by
-- the kind of row (source): its contracts, payments, deals, activities and
-- expenses. A customer-level figure (RFM, CLV, margin) is visible to a user
-- only when the owners of the rows it is computed from are all in the user's
-- scope (access.Scope, "the scope rule"): RFM and CLV come from the
-- payments, the cross-sell from the contracts, the 7P value from all of
-- them. The customer's own owner (owner_rep_id, owner_org of
-- facts.customers) must be in the scope anyway, so a row it owns decides
-- nothing more and is left out: what is left is the few customers served by
-- more than one owner (large demo company: 0.4 M rows for 152 k of 1.6 M
-- customers, against 6.7 M rows with every owner), which is what makes
-- deciding every customer's visibility cheap (scoped.visible_customers).
{{if .Delta -}}
-- (the customers of the changed rows before the delta are in
-- fd_owner_customers already; add those after it)
INSERT INTO fd_owner_customers
SELECT customer_id FROM facts.customers WHERE customer_id IN (SELECT customer_id FROM fd_customers)
UNION SELECT customer_id FROM facts.contracts WHERE contract_id IN (SELECT contract_id FROM fd_contracts)
UNION SELECT customer_id FROM facts.payments WHERE payment_id IN (SELECT payment_id FROM fd_payments)
UNION SELECT customer_id FROM facts.opportunities WHERE opportunity_id IN (SELECT opportunity_id FROM fd_opportunities)
UNION SELECT customer_id FROM facts.activities WHERE activity_id IN (SELECT activity_id FROM fd_activities)
UNION SELECT customer_id FROM facts.expenses WHERE expense_id IN (SELECT expense_id FROM fd_expenses);
DELETE FROM facts.customer_owners WHERE customer_id IN (SELECT customer_id FROM fd_owner_customers);
INSERT INTO facts.customer_owners
{{- else -}}
CREATE OR REPLACE TABLE facts.customer_owners AS
{{- end}}
SELECT DISTINCT w.customer_id, w.source, w.owner_rep_id, w.owner_org FROM (
    SELECT customer_id, 'contract' AS source, owner_rep_id, owner_org FROM facts.contracts
    UNION ALL SELECT customer_id, 'payment', owner_rep_id, owner_org FROM facts.payments
    UNION ALL SELECT customer_id, 'opportunity', owner_rep_id, owner_org FROM facts.opportunities
    UNION ALL SELECT customer_id, 'activity', owner_rep_id, owner_org FROM facts.activities
    UNION ALL SELECT customer_id, 'expense', owner_rep_id, owner_org FROM facts.expenses
) w
LEFT JOIN facts.customers cu ON cu.customer_id = w.customer_id
WHERE w.customer_id IS NOT NULL{{if .Delta}} AND w.customer_id IN (SELECT customer_id FROM fd_owner_customers){{end}}
  AND (w.owner_rep_id IS DISTINCT FROM cu.owner_rep_id OR w.owner_org IS DISTINCT FROM cu.owner_org)
ORDER BY w.customer_id;

-- Lookup indexes. A customer's page and a deal's page (customers.detail,
-- microscope.deal: two in five of bench-serve's chart requests) ask for one
-- customer's or one deal's rows, which the date order above spreads over
-- every row group: a scan of the whole column per chart (0.3-0.5 s on the
-- large demo company's 36 M activities, 15-25 ms on the default one) where
-- the index finds them in milliseconds. DuckDB uses an index only for a scan
-- with a single filter, an equality on the indexed column (the charts'
-- lookups are written so, dashboards' TestDetailPagesLookUpByIndex), and
-- keeps it up to date through the delta's deletes and inserts. The cost is
-- in a full build: the default company's first load 18.2 s -> 21.5 s, the
-- large company's facts 220 s -> 435 s and 2-3 GB more on disk.
{{if not .Delta -}}
CREATE INDEX facts_activities_customer ON facts.activities (customer_id);
CREATE INDEX facts_activities_deal ON facts.activities (opportunity_id);
CREATE INDEX facts_payments_customer ON facts.payments (customer_id);
CREATE INDEX facts_contracts_customer ON facts.contracts (customer_id);
CREATE INDEX facts_contracts_deal ON facts.contracts (opportunity_id);
CREATE INDEX facts_opportunities_customer ON facts.opportunities (customer_id);
CREATE INDEX facts_opportunities_deal ON facts.opportunities (opportunity_id);
{{- end}}

{{if .Delta -}}
UPDATE facts.state SET load_id = {{.LoadID}}, built_at = now(), changes_from = greatest(changes_from, {{.LoadID}} - 366);
{{- else -}}
CREATE OR REPLACE TABLE facts.state AS
SELECT CAST({{.LoadID}} AS BIGINT) AS load_id, '{{.Base}}' AS base_currency,
       '{{.Definition}}' AS definition, now() AS built_at, current_setting('TimeZone') AS time_zone,
       -- facts.payment_changes holds the loads after this one
       CAST({{.LoadID}} AS BIGINT) AS changes_from;
{{- end}}
