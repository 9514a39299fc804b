-- The scope rule as SQL (see access.Scope): the relations of schema scoped,
-- the only way chart, report and ad hoc SQL read customer data. Each is a
-- table macro taking the user's scope as its three arguments,
--     scoped.payment_facts($scope_all, $scope_org, $scope_rep)
-- (scope_all BOOLEAN, scope_org an org unit id or NULL, scope_rep a rep id
-- or NULL; NULL or false everywhere sees nothing). The runtime installs them
-- on the write path: at start, after every load and in the transaction that
-- publishes a refresh. A relation is installed only when what it reads
-- exists (a mart of a model not computed yet has no relation), and a company
-- benchmark only when it is in the configured list (benchmarks).
--
-- Each block below starts with a line "-- @ name=… needs=…" (tables it
-- reads, comma-separated; "benchmark=…" for a company benchmark), then its
-- comment, then one statement.

-- @ name=sees needs=facts.org_paths
-- (Every relation below is two branches, "everything" and "the scope's
-- rows", rather than one filter "scope_all OR sees(…)": DuckDB runs the
-- joins and subqueries of a filter even when scope_all is true, while a
-- branch whose filter is false is skipped: an executive's queries cost what
-- the unfiltered table costs.)
--
-- The scope predicate: a row owned by (owner_rep, owner_org) is visible when
-- the scope sees everything, the rep is the scope's rep, or the unit is the
-- scope's unit or below it. Anything NULL means "no".
CREATE OR REPLACE MACRO scoped.sees(owner_rep, owner_org, scope_all, scope_org, scope_rep) AS
    coalesce(scope_all, false)
    OR coalesce(owner_rep = scope_rep, false)
    OR coalesce(owner_org IN (SELECT p.org_unit_id FROM facts.org_paths p WHERE p.ancestor_id = scope_org), false);

-- @ name=sees_unit needs=facts.org_paths
-- Figures of an org unit (a unit's totals of a model) are visible to a scope
-- whose subtree holds the unit: they are computed from rows below it. A rep
-- sees no unit's figures. 'all' (the company) only with scope_all.
CREATE OR REPLACE MACRO scoped.sees_unit(unit, scope_all, scope_org) AS
    coalesce(scope_all, false)
    OR coalesce(unit IN (SELECT p.org_unit_id FROM facts.org_paths p WHERE p.ancestor_id = scope_org), false);

-- @ name=under needs=facts.org_paths
-- The org filter of a page (not a scope: a choice inside it): no filter
-- (NULL) or the unit and everything below it.
CREATE OR REPLACE MACRO scoped.under(owner_org, org) AS
    org IS NULL OR coalesce(owner_org IN (SELECT p.org_unit_id FROM facts.org_paths p WHERE p.ancestor_id = org), false);

-- @ name=under_any needs=facts.org_paths
-- The org filter of a page when several units are chosen: no filter (NULL)
-- or any of the units and everything below them.
CREATE OR REPLACE MACRO scoped.under_any(owner_org, orgs) AS
    orgs IS NULL OR coalesce(owner_org IN (SELECT p.org_unit_id FROM facts.org_paths p WHERE list_contains(orgs, p.ancestor_id)), false);

-- @ name=child_of needs=facts.org_paths,live.org_units
-- For the units below `node`: which child of `node` each one sits under.
-- NULL node: the roots of the tree are the children.
CREATE OR REPLACE MACRO scoped.child_of(node) AS TABLE
SELECT p.org_unit_id, p.ancestor_id AS child_id
FROM facts.org_paths p
JOIN live.org_units k ON k.org_unit_id = p.ancestor_id
WHERE k.parent_id IS NOT DISTINCT FROM node;

-- @ name=org_units needs=live.org_units
-- Reference tables are visible in full.
CREATE OR REPLACE MACRO scoped.org_units(scope_all, scope_org, scope_rep) AS TABLE SELECT * FROM live.org_units;
-- @ name=reps needs=live.reps
CREATE OR REPLACE MACRO scoped.reps(scope_all, scope_org, scope_rep) AS TABLE SELECT * FROM live.reps;
-- @ name=products needs=live.products
CREATE OR REPLACE MACRO scoped.products(scope_all, scope_org, scope_rep) AS TABLE SELECT * FROM live.products;
-- @ name=partners needs=live.partners
CREATE OR REPLACE MACRO scoped.partners(scope_all, scope_org, scope_rep) AS TABLE SELECT * FROM live.partners;
-- @ name=campaigns needs=live.campaigns
CREATE OR REPLACE MACRO scoped.campaigns(scope_all, scope_org, scope_rep) AS TABLE SELECT * FROM live.campaigns;
-- @ name=stages needs=live.stages
CREATE OR REPLACE MACRO scoped.stages(scope_all, scope_org, scope_rep) AS TABLE SELECT * FROM live.stages;
-- @ name=fx_rates needs=live.fx_rates
CREATE OR REPLACE MACRO scoped.fx_rates(scope_all, scope_org, scope_rep) AS TABLE SELECT * FROM live.fx_rates;
-- @ name=org_paths needs=facts.org_paths
-- Every (unit, ancestor) pair of the org tree; depth 0 is the unit itself.
CREATE OR REPLACE MACRO scoped.org_paths(scope_all, scope_org, scope_rep) AS TABLE SELECT * FROM facts.org_paths;

-- @ name=customer_facts needs=facts.customers
-- Customers with their owner (owner_rep_id, owner_org) and dimensions.
CREATE OR REPLACE MACRO scoped.customer_facts(scope_all, scope_org, scope_rep) AS TABLE
SELECT * FROM facts.customers WHERE coalesce(scope_all, false)
UNION ALL
SELECT * FROM facts.customers f WHERE NOT coalesce(scope_all, false) AND scoped.sees(f.owner_rep_id, f.owner_org, scope_all, scope_org, scope_rep);

-- @ name=contract_facts needs=facts.contracts
-- Contracts with their owner, dimensions and amount_base (base currency at
-- the rate of the signing day). one_customer: that customer's contracts only
-- (NULL: all); a customer's page passes it to the relations below that join
-- the visible contracts, so that they look that customer's up (by index)
-- rather than deciding every contract's visibility first. one_deal: the
-- contracts signed from that deal only (NULL: all), for a deal's page.
CREATE OR REPLACE MACRO scoped.contract_facts(scope_all, scope_org, scope_rep, one_customer := NULL, one_deal := NULL) AS TABLE
SELECT * FROM facts.contracts WHERE coalesce(scope_all, false)
  AND (one_customer IS NULL OR customer_id = one_customer) AND (one_deal IS NULL OR opportunity_id = one_deal)
UNION ALL
SELECT * FROM facts.contracts f WHERE NOT coalesce(scope_all, false)
  AND (one_customer IS NULL OR f.customer_id = one_customer) AND (one_deal IS NULL OR f.opportunity_id = one_deal)
  AND scoped.sees(f.owner_rep_id, f.owner_org, scope_all, scope_org, scope_rep);

-- @ name=payment_facts needs=facts.payments
-- Payments with their owner (the paid contract's), dimensions and amount_base.
CREATE OR REPLACE MACRO scoped.payment_facts(scope_all, scope_org, scope_rep) AS TABLE
SELECT * FROM facts.payments WHERE coalesce(scope_all, false)
UNION ALL
SELECT * FROM facts.payments f WHERE NOT coalesce(scope_all, false) AND scoped.sees(f.owner_rep_id, f.owner_org, scope_all, scope_org, scope_rep);

-- @ name=opportunity_facts needs=facts.opportunities
-- Deals with their owner, stage position, probability and amount_base.
-- one_deal: that deal only (NULL: all); a deal's page passes it, so that the
-- scan looks the deal up by its index whoever asks. one_rep: the deals that
-- rep owns only (NULL: all); a rep's page passes it, so that the relations
-- below join that rep's deals rather than every visible one. one_customer:
-- that customer's deals only (NULL: all; as in contract_facts). one_deals:
-- the deals of a list only (NULL: all), e.g. the largest few a chart picked.
CREATE OR REPLACE MACRO scoped.opportunity_facts(scope_all, scope_org, scope_rep, one_deal := NULL, one_rep := NULL, one_customer := NULL, one_deals := NULL) AS TABLE
SELECT * FROM facts.opportunities WHERE coalesce(scope_all, false)
  AND (one_deal IS NULL OR opportunity_id = one_deal) AND (one_rep IS NULL OR owner_rep_id = one_rep)
  AND (one_customer IS NULL OR customer_id = one_customer) AND (one_deals IS NULL OR opportunity_id IN (SELECT unnest(one_deals)))
UNION ALL
SELECT * FROM facts.opportunities f WHERE NOT coalesce(scope_all, false)
  AND (one_deal IS NULL OR f.opportunity_id = one_deal) AND (one_rep IS NULL OR f.owner_rep_id = one_rep)
  AND (one_customer IS NULL OR f.customer_id = one_customer) AND (one_deals IS NULL OR f.opportunity_id IN (SELECT unnest(one_deals)))
  AND scoped.sees(f.owner_rep_id, f.owner_org, scope_all, scope_org, scope_rep);

-- @ name=activity_facts needs=facts.activities
-- Activities with their owner (the customer's owner, else the rep who logged it).
CREATE OR REPLACE MACRO scoped.activity_facts(scope_all, scope_org, scope_rep) AS TABLE
SELECT * FROM facts.activities WHERE coalesce(scope_all, false)
UNION ALL
SELECT * FROM facts.activities f WHERE NOT coalesce(scope_all, false) AND scoped.sees(f.owner_rep_id, f.owner_org, scope_all, scope_org, scope_rep);

-- @ name=visible_customers needs=facts.customers,facts.customer_owners
-- Customers whose rows of the given kinds (sources: a list of 'customer',
-- 'contract', 'payment', 'opportunity', 'activity', 'expense') are all
-- visible to the scope, the customer itself included (always: its owner is
-- the one of facts.customers; facts.customer_owners lists the rows' other
-- owners only). A customer-level
-- figure of the models is shown only for these: RFM and CLV need the
-- payments, the cross-sell the contracts, the 7P value every kind.
-- one_customer: that customer alone, when visible (NULL: every visible
-- customer). A customer's page asks about one: both tables are ordered by
-- customer_id, so the scans skip to its rows (a manager's 7P value of one
-- customer on the large demo company 0.33-0.48 s -> 0.01 s).
CREATE OR REPLACE MACRO scoped.visible_customers(scope_all, scope_org, scope_rep, sources, one_customer := NULL) AS TABLE
SELECT c.customer_id FROM facts.customers c
WHERE (one_customer IS NULL OR c.customer_id = one_customer)
  AND scoped.sees(c.owner_rep_id, c.owner_org, scope_all, scope_org, scope_rep)
  AND NOT EXISTS (SELECT 1 FROM facts.customer_owners w
                  WHERE w.customer_id = c.customer_id AND (one_customer IS NULL OR w.customer_id = one_customer)
                    AND list_contains(sources, w.source)
                    AND NOT scoped.sees(w.owner_rep_id, w.owner_org, scope_all, scope_org, scope_rep));

-- @ name=customers needs=facts.customers
-- The base tables in the user's scope, with the columns of the data contract.
CREATE OR REPLACE MACRO scoped.customers(scope_all, scope_org, scope_rep) AS TABLE
SELECT t.* FROM live.customers t WHERE coalesce(scope_all, false)
UNION ALL
SELECT t.* FROM live.customers t SEMI JOIN scoped.customer_facts(scope_all, scope_org, scope_rep) f ON f.customer_id = t.customer_id WHERE NOT coalesce(scope_all, false);
-- @ name=contracts needs=facts.contracts
CREATE OR REPLACE MACRO scoped.contracts(scope_all, scope_org, scope_rep) AS TABLE
SELECT t.* FROM live.contracts t WHERE coalesce(scope_all, false)
UNION ALL
SELECT t.* FROM live.contracts t SEMI JOIN scoped.contract_facts(scope_all, scope_org, scope_rep) f ON f.contract_id = t.contract_id WHERE NOT coalesce(scope_all, false);
-- @ name=payments needs=facts.payments
CREATE OR REPLACE MACRO scoped.payments(scope_all, scope_org, scope_rep) AS TABLE
SELECT t.* FROM live.payments t WHERE coalesce(scope_all, false)
UNION ALL
SELECT t.* FROM live.payments t SEMI JOIN scoped.payment_facts(scope_all, scope_org, scope_rep) f ON f.payment_id = t.payment_id WHERE NOT coalesce(scope_all, false);
-- @ name=opportunities needs=facts.opportunities
-- (one_deal: that deal only, NULL: all, as in opportunity_facts)
CREATE OR REPLACE MACRO scoped.opportunities(scope_all, scope_org, scope_rep, one_deal := NULL) AS TABLE
SELECT t.* FROM live.opportunities t WHERE coalesce(scope_all, false) AND (one_deal IS NULL OR t.opportunity_id = one_deal)
UNION ALL
SELECT t.* FROM live.opportunities t SEMI JOIN scoped.opportunity_facts(scope_all, scope_org, scope_rep, one_deal := one_deal) f ON f.opportunity_id = t.opportunity_id
WHERE NOT coalesce(scope_all, false) AND (one_deal IS NULL OR t.opportunity_id = one_deal);
-- @ name=activities needs=facts.activities
CREATE OR REPLACE MACRO scoped.activities(scope_all, scope_org, scope_rep) AS TABLE
SELECT t.* FROM live.activities t WHERE coalesce(scope_all, false)
UNION ALL
SELECT t.* FROM live.activities t SEMI JOIN scoped.activity_facts(scope_all, scope_org, scope_rep) f ON f.activity_id = t.activity_id WHERE NOT coalesce(scope_all, false);
-- @ name=opportunity_stages needs=facts.opportunities
-- A deal's stage history belongs to the deal's owner. one_deal, one_rep,
-- one_deals (as in opportunity_facts): that deal's history, that rep's
-- deals' or those of the list, only (NULL: all), their visibility decided
-- for them alone (a scoped user's deal page joined every visible deal: 0.3-0.4
-- s on the large demo company; the Microscope overview's 12 largest deals,
-- a manager's, 0.9 s). Unscoped, the list has a branch of its own: there
-- "one_deals IS NULL OR …" cannot be decided before the query runs when the
-- list is a subquery, and DuckDB then marks every stage row (the executive's
-- timeline 0.1 -> 0.5 s); a semi join with the list reads the listed deals'
-- rows, and without a list nothing.
CREATE OR REPLACE MACRO scoped.opportunity_stages(scope_all, scope_org, scope_rep, one_deal := NULL, one_rep := NULL, one_deals := NULL) AS TABLE
SELECT t.* FROM live.opportunity_stages t WHERE coalesce(scope_all, false) AND one_deals IS NULL AND (one_deal IS NULL OR t.opportunity_id = one_deal)
  AND (one_rep IS NULL OR t.opportunity_id IN (SELECT o.opportunity_id FROM facts.opportunities o WHERE o.owner_rep_id = one_rep))
UNION ALL
SELECT t.* FROM live.opportunity_stages t WHERE coalesce(scope_all, false) AND t.opportunity_id IN (SELECT unnest(one_deals))
  AND (one_deal IS NULL OR t.opportunity_id = one_deal)
  AND (one_rep IS NULL OR t.opportunity_id IN (SELECT o.opportunity_id FROM facts.opportunities o WHERE o.owner_rep_id = one_rep))
UNION ALL
SELECT t.* FROM live.opportunity_stages t
SEMI JOIN scoped.opportunity_facts(scope_all, scope_org, scope_rep, one_deal := one_deal, one_rep := one_rep, one_deals := one_deals) f ON f.opportunity_id = t.opportunity_id
WHERE NOT coalesce(scope_all, false) AND (one_deal IS NULL OR t.opportunity_id = one_deal);
-- @ name=payment_schedule needs=facts.contracts
-- A contract's settlement plan and lines belong to the contract's owner.
-- one_customer: the plans of that customer's contracts only (NULL: all;
-- contract_facts).
CREATE OR REPLACE MACRO scoped.payment_schedule(scope_all, scope_org, scope_rep, one_customer := NULL) AS TABLE
SELECT t.* FROM live.payment_schedule t WHERE coalesce(scope_all, false)
  AND (one_customer IS NULL OR t.contract_id IN (SELECT c.contract_id FROM facts.contracts c WHERE c.customer_id = one_customer))
UNION ALL
SELECT t.* FROM live.payment_schedule t SEMI JOIN scoped.contract_facts(scope_all, scope_org, scope_rep, one_customer := one_customer) f ON f.contract_id = t.contract_id
WHERE NOT coalesce(scope_all, false);
-- @ name=contract_lines needs=facts.contracts
CREATE OR REPLACE MACRO scoped.contract_lines(scope_all, scope_org, scope_rep) AS TABLE
SELECT t.* FROM live.contract_lines t WHERE coalesce(scope_all, false)
UNION ALL
SELECT t.* FROM live.contract_lines t SEMI JOIN scoped.contract_facts(scope_all, scope_org, scope_rep) f ON f.contract_id = t.contract_id WHERE NOT coalesce(scope_all, false);
-- @ name=expenses needs=facts.contracts,facts.opportunities,facts.customers
-- An expense belongs to the owner of its contract, else of its deal, else of its customer.
CREATE OR REPLACE MACRO scoped.expenses(scope_all, scope_org, scope_rep) AS TABLE
SELECT e.* FROM live.expenses e
LEFT JOIN facts.contracts c ON c.contract_id = e.contract_id
LEFT JOIN facts.opportunities o ON o.opportunity_id = e.opportunity_id
LEFT JOIN facts.customers cu ON cu.customer_id = e.customer_id
WHERE scoped.sees(coalesce(c.owner_rep_id, o.owner_rep_id, cu.owner_rep_id), coalesce(c.owner_org, o.owner_org, cu.owner_org),
                  scope_all, scope_org, scope_rep);

-- @ name=targets needs=live.targets,live.reps absent=main.mart_targets_monthly
-- Targets with their owner: a rep target belongs to the rep (and the rep's
-- unit); an org target to its unit. Until the targets model has run they come
-- from the targets table; then from mart_targets_monthly (the block below).
CREATE OR REPLACE MACRO scoped.targets(scope_all, scope_org, scope_rep) AS TABLE
SELECT * FROM (
    SELECT t.scope, t.scope_id, t.period_start, t.period_end, t.metric, t.amount,
           CASE WHEN t.scope = 'rep' THEN t.scope_id END AS owner_rep_id,
           CASE WHEN t.scope = 'rep' THEN r.org_unit_id ELSE t.scope_id END AS owner_org
    FROM live.targets t
    LEFT JOIN live.reps r ON t.scope = 'rep' AND r.rep_id = t.scope_id
) x WHERE scoped.sees(x.owner_rep_id, x.owner_org, scope_all, scope_org, scope_rep);

-- @ name=targets needs=main.mart_targets_monthly,live.reps
-- When the targets model has run: the targets set at any level broken down
-- to the levels below (models.targets.rule) unless a lower level has its
-- own, per month. Same columns as above.
CREATE OR REPLACE MACRO scoped.targets(scope_all, scope_org, scope_rep) AS TABLE
SELECT * FROM (
    SELECT t.scope, t.scope_id,
           CAST(t.month || '-01' AS DATE) AS period_start,
           CAST(last_day(CAST(t.month || '-01' AS DATE)) AS DATE) AS period_end,
           t.metric, t.target AS amount,
           CASE WHEN t.scope = 'rep' THEN t.scope_id END AS owner_rep_id,
           CASE WHEN t.scope = 'rep' THEN r.org_unit_id ELSE t.scope_id END AS owner_org
    FROM main.mart_targets_monthly t
    LEFT JOIN live.reps r ON t.scope = 'rep' AND r.rep_id = t.scope_id
) x WHERE scoped.sees(x.owner_rep_id, x.owner_org, scope_all, scope_org, scope_rep);

-- @ name=targets_in needs=main.mart_calendar,main.mart_targets_monthly,live.reps,facts.contracts,facts.payments
-- TARGET (目标) of the days d_from through d_to: every target (scoped.targets:
-- per month) prorated by working days — a period partly inside the days
-- counts (its working days inside) / (its working days) of its amount, on
-- the calendar of mart_calendar (the PRC calendar with its holidays and
-- make-up working days 调休, or the configured holidays_file); a period with
-- no working day by calendar days. Days after the latest day the metric's
-- own data reaches (bookings: the latest signing day; collections: the
-- latest payment day; company-wide, like the as-of date) are not counted: a
-- target is compared with the actuals of the same days, so a stray row dated
-- after the rest moves no target. amount: base currency, cents; workdays and
-- period_workdays say how it was prorated.
CREATE OR REPLACE MACRO scoped.targets_in(scope_all, scope_org, scope_rep, d_from, d_to) AS TABLE
WITH ends AS (
    SELECT 'bookings' AS metric, (SELECT max(signed_on) FROM facts.contracts) AS data_end
    UNION ALL SELECT 'collections', (SELECT max(paid_on) FROM facts.payments)
),
t AS (
    SELECT t.*, greatest(t.period_start, CAST(d_from AS DATE)) AS a,
           least(t.period_end, CAST(d_to AS DATE), coalesce(e.data_end, CAST(d_to AS DATE))) AS b
    FROM scoped.targets(scope_all, scope_org, scope_rep) t
    LEFT JOIN ends e ON e.metric = t.metric
    WHERE t.period_end >= CAST(d_from AS DATE) AND t.period_start <= CAST(d_to AS DATE)
),
w AS (
    SELECT t.*,
           CASE WHEN t.b < t.a THEN 0 ELSE cb.workdays_through - ca.workdays_before END AS workdays,
           pe.workdays_through - ps.workdays_before AS period_workdays
    FROM t
    LEFT JOIN main.mart_calendar ca ON ca.day = t.a
    LEFT JOIN main.mart_calendar cb ON cb.day = t.b
    LEFT JOIN main.mart_calendar ps ON ps.day = t.period_start
    LEFT JOIN main.mart_calendar pe ON pe.day = t.period_end
)
SELECT scope, scope_id, period_start, period_end, metric, owner_rep_id, owner_org,
       CAST(round(CASE WHEN b < a THEN 0
                       WHEN period_workdays > 0 THEN amount * workdays / period_workdays
                       ELSE amount * (date_diff('day', a, b) + 1) / (date_diff('day', period_start, period_end) + 1) END, 2) AS DECIMAL(18,2)) AS amount,
       workdays, period_workdays
FROM w;

-- @ name=targets_in needs=live.targets,live.reps,facts.contracts,facts.payments absent=main.mart_calendar
-- Before the targets model has computed the calendar: the same, counting
-- Monday to Friday as working days.
CREATE OR REPLACE MACRO scoped.targets_in(scope_all, scope_org, scope_rep, d_from, d_to) AS TABLE
WITH ends AS (
    SELECT 'bookings' AS metric, (SELECT max(signed_on) FROM facts.contracts) AS data_end
    UNION ALL SELECT 'collections', (SELECT max(paid_on) FROM facts.payments)
),
t AS (
    SELECT t.*, greatest(t.period_start, CAST(d_from AS DATE)) AS a,
           least(t.period_end, CAST(d_to AS DATE), coalesce(e.data_end, CAST(d_to AS DATE))) AS b
    FROM scoped.targets(scope_all, scope_org, scope_rep) t
    LEFT JOIN ends e ON e.metric = t.metric
    WHERE t.period_end >= CAST(d_from AS DATE) AND t.period_start <= CAST(d_to AS DATE)
),
w AS (
    SELECT t.*,
           len(list_filter(generate_series(CAST(a AS TIMESTAMP), CAST(b AS TIMESTAMP), INTERVAL 1 DAY), lambda x: isodow(x) <= 5)) AS workdays,
           len(list_filter(generate_series(CAST(period_start AS TIMESTAMP), CAST(period_end AS TIMESTAMP), INTERVAL 1 DAY), lambda x: isodow(x) <= 5)) AS period_workdays
    FROM t
)
SELECT scope, scope_id, period_start, period_end, metric, owner_rep_id, owner_org,
       CAST(round(CASE WHEN b < a THEN 0
                       WHEN period_workdays > 0 THEN amount * workdays / period_workdays
                       ELSE amount * (date_diff('day', a, b) + 1) / (date_diff('day', period_start, period_end) + 1) END, 2) AS DECIMAL(18,2)) AS amount,
       workdays, period_workdays
FROM w;

-- ---- The KPIs, defined once (docs/glossary.md; every chart, the command
-- line's headline, reports and ad hoc SQL count them from these) ----

-- @ name=bookings needs=facts.contracts
-- BOOKINGS (签约额): contracts signed (signed_on), at their base-currency value
-- on the signing day (amount_base), excluding cancelled contracts, which were
-- never in force. A contract terminated later stays a booking of its signing
-- period; terminations are their own figure.
-- (The condition names contract_id, a key, which is never NULL, so that
-- DuckDB keeps it out of the table scan: a scan with a second filter beside
-- a customer's or a deal's key cannot use the facts' lookup indexes,
-- models/sql/facts.sql; TestDetailPagesLookUpByIndex.)
CREATE OR REPLACE MACRO scoped.bookings(scope_all, scope_org, scope_rep) AS TABLE
SELECT * FROM scoped.contract_facts(scope_all, scope_org, scope_rep) WHERE status IS DISTINCT FROM 'cancelled' OR contract_id IS NULL;

-- @ name=terminations needs=facts.contracts
-- TERMINATIONS (终止合同): contracts signed and later terminated, by their
-- signing day (the data holds no termination date); they stay in bookings.
CREATE OR REPLACE MACRO scoped.terminations(scope_all, scope_org, scope_rep) AS TABLE
SELECT * FROM scoped.contract_facts(scope_all, scope_org, scope_rep) WHERE status = 'terminated';

-- @ name=collections needs=facts.payments
-- COLLECTIONS (回款): money received (paid_on), whatever the contract's
-- status, at the base-currency value on the payment day; a refund is a
-- negative payment and nets.
CREATE OR REPLACE MACRO scoped.collections(scope_all, scope_org, scope_rep) AS TABLE
SELECT * FROM scoped.payment_facts(scope_all, scope_org, scope_rep);

-- @ name=paying_months needs=facts.paying_months
-- PAYING CUSTOMERS (付款客户) by month: per customer, year and the owner and
-- dimensions of its payments, a bit for each month of the year (bit 0 =
-- January) with a payment of amount >= 0 (facts.sql). The same rows as
-- collections with amount >= 0, whole months at a time: a period's partial
-- months are counted from collections.
CREATE OR REPLACE MACRO scoped.paying_months(scope_all, scope_org, scope_rep) AS TABLE
SELECT * FROM facts.paying_months WHERE coalesce(scope_all, false)
UNION ALL
SELECT * FROM facts.paying_months f WHERE NOT coalesce(scope_all, false) AND scoped.sees(f.owner_rep_id, f.owner_org, scope_all, scope_org, scope_rep);

-- @ name=collection_months needs=facts.collection_months
-- COLLECTIONS by month (facts.sql): the sums of the payments collections
-- returns, per month (its first day), owner and product line. A row is
-- visible exactly when its payments are: their visibility is their owner's.
CREATE OR REPLACE MACRO scoped.collection_months(scope_all, scope_org, scope_rep) AS TABLE
SELECT * FROM facts.collection_months WHERE coalesce(scope_all, false)
UNION ALL
SELECT * FROM facts.collection_months f WHERE NOT coalesce(scope_all, false) AND scoped.sees(f.owner_rep_id, f.owner_org, scope_all, scope_org, scope_rep);

-- @ name=month_index
-- Months counted from year 0: year * 12 + month - 1 (January = 0).
CREATE OR REPLACE MACRO scoped.month_index(d) AS year(d) * 12 + month(d) - 1;

-- @ name=whole_months_start
-- The first day of the first whole month of a period starting on d: d on a
-- 1st, else the 1st of the next month.
CREATE OR REPLACE MACRO scoped.whole_months_start(d) AS
CASE WHEN day(d) = 1 THEN CAST(d AS DATE) ELSE last_day(d) + 1 END;

-- @ name=whole_months_end
-- The last day of the last whole month of a period ending on d: d on a
-- month's last day, else the last day of the month before.
CREATE OR REPLACE MACRO scoped.whole_months_end(d) AS
CASE WHEN d = last_day(d) THEN CAST(d AS DATE) ELSE CAST(date_trunc('month', d) AS DATE) - 1 END;

-- @ name=month_bits
-- The months of a paying_months row (months: its bits, year: its year) from
-- month index lo to hi (scoped.month_index), as the bits of a UBIGINT where
-- bit 0 is month index first: a period's months from its first one (hi -
-- first < 64). NULL lo or hi: none (0).
CREATE OR REPLACE MACRO scoped.month_bits(months, year, first, lo, hi) AS
CASE WHEN lo IS NOT NULL AND hi IS NOT NULL
      AND greatest(lo, CAST(year AS INTEGER) * 12) <= least(hi, CAST(year AS INTEGER) * 12 + 11) THEN
    CAST(CAST(months AS INTEGER)
         & ((1 << (least(hi, CAST(year AS INTEGER) * 12 + 11) - CAST(year AS INTEGER) * 12 + 1))
            - (1 << (greatest(lo, CAST(year AS INTEGER) * 12) - CAST(year AS INTEGER) * 12))) AS UBIGINT)
    << CAST(greatest(CAST(year AS INTEGER) * 12 - first, 0) AS INTEGER)
    >> CAST(greatest(first - CAST(year AS INTEGER) * 12, 0) AS INTEGER)
ELSE CAST(0 AS UBIGINT) END;

-- @ name=paying_days needs=facts.payments
-- The payments of amount >= 0 dated in the partial first and last months of
-- the period d_from .. d_to (none when it starts on a 1st and ends on a
-- month's last day): what paying_months does not answer for that period.
-- Two ranges, two branches: each scan skips the other months' row groups.
CREATE OR REPLACE MACRO scoped.paying_days(scope_all, scope_org, scope_rep, d_from, d_to) AS TABLE
SELECT p.* FROM scoped.collections(scope_all, scope_org, scope_rep) p
WHERE p.amount >= 0 AND p.paid_on BETWEEN d_from AND least(d_to, scoped.whole_months_start(d_from) - 1)
UNION ALL
SELECT p.* FROM scoped.collections(scope_all, scope_org, scope_rep) p
WHERE p.amount >= 0
  AND p.paid_on BETWEEN greatest(d_from, scoped.whole_months_start(d_from), scoped.whole_months_end(d_to) + 1) AND d_to;

-- @ name=collections_in needs=facts.collection_months,facts.payments
-- COLLECTIONS of the days d_from .. d_to (DATEs), summed as far as the days
-- allow: rows of month (its first day), owner_rep_id, owner_org,
-- product_line, amount_base and payments (how many it sums), the whole
-- months from collection_months and the days of a partial first and last month from collections, so that a
-- sum over them equals the sum of collections over those days (a period of
-- ten months on the large demo company reads 14 K rows instead of 4 M).
-- A NULL bound or d_from after d_to: no rows (d_from <= d_to in each
-- branch: least and greatest pass over a NULL, so a NULL bound alone would
-- leave a partial month's days in). Three ranges, three branches: each scan
-- skips the other months' row groups.
CREATE OR REPLACE MACRO scoped.collections_in(scope_all, scope_org, scope_rep, d_from, d_to) AS TABLE
SELECT m.month, m.owner_rep_id, m.owner_org, m.product_line, m.amount_base, m.payments
FROM scoped.collection_months(scope_all, scope_org, scope_rep) m
WHERE d_from <= d_to AND m.month BETWEEN scoped.whole_months_start(d_from) AND scoped.whole_months_end(d_to)
UNION ALL
SELECT CAST(date_trunc('month', p.paid_on) AS DATE), p.owner_rep_id, p.owner_org, p.product_line, p.amount_base, 1
FROM scoped.collections(scope_all, scope_org, scope_rep) p
WHERE d_from <= d_to AND p.paid_on BETWEEN d_from AND least(d_to, scoped.whole_months_start(d_from) - 1)
UNION ALL
SELECT CAST(date_trunc('month', p.paid_on) AS DATE), p.owner_rep_id, p.owner_org, p.product_line, p.amount_base, 1
FROM scoped.collections(scope_all, scope_org, scope_rep) p
WHERE d_from <= d_to AND p.paid_on BETWEEN greatest(d_from, scoped.whole_months_start(d_from), scoped.whole_months_end(d_to) + 1) AND d_to;

-- @ name=open_pipeline needs=facts.opportunities
-- OPEN PIPELINE (在途商机): deals open now (status open), at the base-currency
-- value of their creation day; weighted_base = amount × probability (the
-- deal's own, else its stage's default), an exact DECIMAL (sum it, then round).
CREATE OR REPLACE MACRO scoped.open_pipeline(scope_all, scope_org, scope_rep) AS TABLE
SELECT *, amount_base * CAST(probability AS DECIMAL(9,4)) * 0.01 AS weighted_base
FROM scoped.opportunity_facts(scope_all, scope_org, scope_rep)
WHERE status = 'open' OR opportunity_id IS NULL; -- (a key is never NULL: out of the scan, see bookings)

-- @ name=closed_deals needs=facts.opportunities
-- CLOSED DEALS: deals won or lost, on closed_on. WIN RATE (赢单率) of a
-- period = won ÷ (won + lost) of the deals closed in it, by count (by amount
-- where a chart says so).
CREATE OR REPLACE MACRO scoped.closed_deals(scope_all, scope_org, scope_rep) AS TABLE
SELECT *, status = 'won' AS won FROM scoped.opportunity_facts(scope_all, scope_org, scope_rep)
WHERE status IN ('won', 'lost') AND closed_on IS NOT NULL;

-- ---- The models' marts, by what each row is computed from ----

-- @ name=mart_rfm needs=main.mart_rfm,facts.customer_owners
-- Customer-level figures: only for customers whose rows the figure is
-- computed from are all visible to the scope (RFM: the payments).
-- (Two branches instead of "scope_all OR key IN (…)": DuckDB runs the IN
-- subquery's join even when scope_all is true; a branch whose filter is false
-- is skipped.) one_customer: that customer's rows only (NULL: all), with
-- its visibility decided for it alone (scoped.visible_customers): a page
-- about one customer passes it, so that a scoped user's query does not
-- decide every customer's visibility first.
CREATE OR REPLACE MACRO scoped.mart_rfm(scope_all, scope_org, scope_rep, one_customer := NULL) AS TABLE
SELECT m.* FROM main.mart_rfm m WHERE coalesce(scope_all, false) AND (one_customer IS NULL OR m.customer_id = one_customer)
UNION ALL
SELECT m.* FROM main.mart_rfm m WHERE NOT coalesce(scope_all, false) AND (one_customer IS NULL OR m.customer_id = one_customer)
  AND m.customer_id IN (SELECT v.customer_id FROM scoped.visible_customers(scope_all, scope_org, scope_rep, ['customer', 'payment'], one_customer := one_customer) v);
-- @ name=mart_rfm_movement needs=main.mart_rfm_movement,facts.customer_owners
CREATE OR REPLACE MACRO scoped.mart_rfm_movement(scope_all, scope_org, scope_rep, one_customer := NULL) AS TABLE
SELECT m.* FROM main.mart_rfm_movement m WHERE coalesce(scope_all, false) AND (one_customer IS NULL OR m.customer_id = one_customer)
UNION ALL
SELECT m.* FROM main.mart_rfm_movement m WHERE NOT coalesce(scope_all, false) AND (one_customer IS NULL OR m.customer_id = one_customer)
  AND m.customer_id IN (SELECT v.customer_id FROM scoped.visible_customers(scope_all, scope_org, scope_rep, ['customer', 'payment'], one_customer := one_customer) v);
-- @ name=mart_clv needs=main.mart_clv,facts.customer_owners
CREATE OR REPLACE MACRO scoped.mart_clv(scope_all, scope_org, scope_rep, one_customer := NULL) AS TABLE
SELECT m.* FROM main.mart_clv m WHERE coalesce(scope_all, false) AND (one_customer IS NULL OR m.customer_id = one_customer)
UNION ALL
SELECT m.* FROM main.mart_clv m WHERE NOT coalesce(scope_all, false) AND (one_customer IS NULL OR m.customer_id = one_customer)
  AND m.customer_id IN (SELECT v.customer_id FROM scoped.visible_customers(scope_all, scope_org, scope_rep, ['customer', 'payment'], one_customer := one_customer) v);
-- @ name=mart_customer_value needs=main.mart_customer_value,facts.customer_owners
CREATE OR REPLACE MACRO scoped.mart_customer_value(scope_all, scope_org, scope_rep, one_customer := NULL) AS TABLE
SELECT m.* FROM main.mart_customer_value m WHERE coalesce(scope_all, false) AND (one_customer IS NULL OR m.customer_id = one_customer)
UNION ALL
SELECT m.* FROM main.mart_customer_value m WHERE NOT coalesce(scope_all, false) AND (one_customer IS NULL OR m.customer_id = one_customer)
  AND m.customer_id IN (SELECT v.customer_id FROM scoped.visible_customers(scope_all, scope_org, scope_rep, ['customer', 'contract', 'payment', 'opportunity', 'activity', 'expense'], one_customer := one_customer) v);
-- @ name=mart_customer_value_detail needs=main.mart_customer_value_detail,facts.customer_owners
CREATE OR REPLACE MACRO scoped.mart_customer_value_detail(scope_all, scope_org, scope_rep, one_customer := NULL) AS TABLE
SELECT m.* FROM main.mart_customer_value_detail m WHERE coalesce(scope_all, false) AND (one_customer IS NULL OR m.customer_id = one_customer)
UNION ALL
SELECT m.* FROM main.mart_customer_value_detail m WHERE NOT coalesce(scope_all, false) AND (one_customer IS NULL OR m.customer_id = one_customer)
  AND m.customer_id IN (SELECT v.customer_id FROM scoped.visible_customers(scope_all, scope_org, scope_rep, ['customer', 'contract', 'payment', 'opportunity', 'activity', 'expense'], one_customer := one_customer) v);
-- @ name=mart_customer_value_peers needs=main.mart_customer_value_peers,facts.customer_owners
-- (The scores by peer group, visible as mart_customer_value. one_group:
-- that peer group's rows only (NULL: all); the table is ordered by group.)
CREATE OR REPLACE MACRO scoped.mart_customer_value_peers(scope_all, scope_org, scope_rep, one_customer := NULL, one_group := NULL) AS TABLE
SELECT m.* FROM main.mart_customer_value_peers m WHERE coalesce(scope_all, false)
  AND (one_customer IS NULL OR m.customer_id = one_customer) AND (one_group IS NULL OR m.peer_group = one_group)
UNION ALL
SELECT m.* FROM main.mart_customer_value_peers m WHERE NOT coalesce(scope_all, false)
  AND (one_customer IS NULL OR m.customer_id = one_customer) AND (one_group IS NULL OR m.peer_group = one_group)
  AND m.customer_id IN (SELECT v.customer_id FROM scoped.visible_customers(scope_all, scope_org, scope_rep, ['customer', 'contract', 'payment', 'opportunity', 'activity', 'expense'], one_customer := one_customer) v);
-- @ name=mart_cross_sell needs=main.mart_cross_sell,facts.customer_owners
CREATE OR REPLACE MACRO scoped.mart_cross_sell(scope_all, scope_org, scope_rep, one_customer := NULL) AS TABLE
SELECT m.* FROM main.mart_cross_sell m WHERE coalesce(scope_all, false) AND (one_customer IS NULL OR m.customer_id = one_customer)
UNION ALL
SELECT m.* FROM main.mart_cross_sell m WHERE NOT coalesce(scope_all, false) AND (one_customer IS NULL OR m.customer_id = one_customer)
  AND m.customer_id IN (SELECT v.customer_id FROM scoped.visible_customers(scope_all, scope_org, scope_rep, ['customer', 'contract'], one_customer := one_customer) v);

-- @ name=mart_contract_execution needs=main.mart_contract_execution,facts.contracts
-- Contract-level figures (from the contract's plan and payments): visible
-- with the contract. one_customer, one_deal: that customer's contracts',
-- or those signed from that deal, only (NULL: all; contract_facts).
CREATE OR REPLACE MACRO scoped.mart_contract_execution(scope_all, scope_org, scope_rep, one_customer := NULL, one_deal := NULL) AS TABLE
SELECT m.* FROM main.mart_contract_execution m WHERE coalesce(scope_all, false)
  AND (one_customer IS NULL OR m.contract_id IN (SELECT c.contract_id FROM facts.contracts c WHERE c.customer_id = one_customer))
  AND (one_deal IS NULL OR m.contract_id IN (SELECT c.contract_id FROM facts.contracts c WHERE c.opportunity_id = one_deal))
UNION ALL
SELECT m.* FROM main.mart_contract_execution m WHERE NOT coalesce(scope_all, false)
  AND m.contract_id IN (SELECT f.contract_id FROM scoped.contract_facts(scope_all, scope_org, scope_rep, one_customer := one_customer, one_deal := one_deal) f);
-- @ name=mart_settlements_due needs=main.mart_settlements_due,facts.contracts
CREATE OR REPLACE MACRO scoped.mart_settlements_due(scope_all, scope_org, scope_rep, one_customer := NULL) AS TABLE
SELECT m.* FROM main.mart_settlements_due m WHERE coalesce(scope_all, false)
  AND (one_customer IS NULL OR m.contract_id IN (SELECT c.contract_id FROM facts.contracts c WHERE c.customer_id = one_customer))
UNION ALL
SELECT m.* FROM main.mart_settlements_due m WHERE NOT coalesce(scope_all, false)
  AND m.contract_id IN (SELECT f.contract_id FROM scoped.contract_facts(scope_all, scope_org, scope_rep, one_customer := one_customer) f);

-- @ name=mart_pipeline needs=main.mart_pipeline,facts.opportunities
-- Deal-level figures: visible with the deal. one_rep: the deals that rep
-- owns only (NULL: all; opportunity_facts).
CREATE OR REPLACE MACRO scoped.mart_pipeline(scope_all, scope_org, scope_rep, one_rep := NULL) AS TABLE
SELECT m.* FROM main.mart_pipeline m WHERE coalesce(scope_all, false)
  AND (one_rep IS NULL OR m.opportunity_id IN (SELECT o.opportunity_id FROM facts.opportunities o WHERE o.owner_rep_id = one_rep))
UNION ALL
SELECT m.* FROM main.mart_pipeline m WHERE NOT coalesce(scope_all, false)
  AND m.opportunity_id IN (SELECT f.opportunity_id FROM scoped.opportunity_facts(scope_all, scope_org, scope_rep, one_rep := one_rep) f);
-- @ name=mart_slippage needs=main.mart_slippage,facts.opportunities
CREATE OR REPLACE MACRO scoped.mart_slippage(scope_all, scope_org, scope_rep) AS TABLE
SELECT m.* FROM main.mart_slippage m WHERE coalesce(scope_all, false)
UNION ALL
SELECT m.* FROM main.mart_slippage m WHERE NOT coalesce(scope_all, false)
  AND m.opportunity_id IN (SELECT f.opportunity_id FROM scoped.opportunity_facts(scope_all, scope_org, scope_rep) f);

-- @ name=mart_collisions needs=main.mart_collisions,facts.opportunities
-- A collision pair is visible to a user who can see both deals. one_deal:
-- the pairs that deal is in only (NULL: all), each pair's two deals looked
-- up and checked alone: a deal's page passes it (deciding every deal's
-- visibility first took a manager 0.2-0.3 s on the large demo company for
-- the one or two pairs of a deal, the lookup 0.02-0.04 s).
CREATE OR REPLACE MACRO scoped.mart_collisions(scope_all, scope_org, scope_rep, one_deal := NULL) AS TABLE
SELECT m.* FROM main.mart_collisions m WHERE coalesce(scope_all, false)
  AND (one_deal IS NULL OR m.opportunity_id = one_deal OR m.conflicts_with_opportunity_id = one_deal)
UNION ALL
SELECT m.* FROM main.mart_collisions m WHERE NOT coalesce(scope_all, false) AND one_deal IS NULL
  AND (m.opportunity_id IN (SELECT f.opportunity_id FROM scoped.opportunity_facts(scope_all, scope_org, scope_rep) f)
       AND m.conflicts_with_opportunity_id IN (SELECT f.opportunity_id FROM scoped.opportunity_facts(scope_all, scope_org, scope_rep) f))
UNION ALL
SELECT m.* FROM main.mart_collisions m
JOIN facts.opportunities a ON a.opportunity_id = m.opportunity_id
JOIN facts.opportunities b ON b.opportunity_id = m.conflicts_with_opportunity_id
WHERE NOT coalesce(scope_all, false) AND one_deal IS NOT NULL
  AND (m.opportunity_id = one_deal OR m.conflicts_with_opportunity_id = one_deal)
  AND scoped.sees(a.owner_rep_id, a.owner_org, scope_all, scope_org, scope_rep)
  AND scoped.sees(b.owner_rep_id, b.owner_org, scope_all, scope_org, scope_rep);
-- @ name=collision_rulings needs=main.mart_collisions,main.collision_rulings,facts.opportunities
-- Rulings on the pairs the user can see. one_deal: on the pairs that deal
-- is in only (NULL: all; mart_collisions).
CREATE OR REPLACE MACRO scoped.collision_rulings(scope_all, scope_org, scope_rep, one_deal := NULL) AS TABLE
SELECT r.* FROM main.collision_rulings r
SEMI JOIN scoped.mart_collisions(scope_all, scope_org, scope_rep, one_deal := one_deal) m
  ON m.opportunity_id = r.opportunity_id AND m.conflicts_with_opportunity_id = r.conflicts_with_opportunity_id;

-- @ name=collisions needs=main.mart_collisions,main.collision_rulings,facts.opportunities
-- The collision pairs the user sees (both deals) with both deals' owner,
-- customer and amount, the ruling that stands (the latest) and how many
-- rulings there were (an overruling keeps the earlier ones): what the
-- collisions page, its figures and its rows count. one_deal: the pairs that
-- deal is in only (NULL: all; mart_collisions). (The deals and the rulings
-- are joined to the visible pairs as they are: scoped.mart_collisions has
-- decided that the user sees both deals, and joining the scoped relations
-- again decided every deal's visibility twice more for a scoped user.)
CREATE OR REPLACE MACRO scoped.collisions(scope_all, scope_org, scope_rep, one_deal := NULL) AS TABLE
WITH ruled AS (
    SELECT *, count(*) OVER (PARTITION BY opportunity_id, conflicts_with_opportunity_id) AS rulings
    FROM main.collision_rulings r
    WHERE one_deal IS NULL OR r.opportunity_id = one_deal OR r.conflicts_with_opportunity_id = one_deal
    QUALIFY row_number() OVER (PARTITION BY opportunity_id, conflicts_with_opportunity_id ORDER BY ruled_at DESC, ruling_id DESC) = 1
)
SELECT m.opportunity_id || '|' || m.conflicts_with_opportunity_id AS collision_id, m.*,
       CAST(m.created_at AS DATE) AS registered_on,
       o.owner_rep_id AS deal_rep_id, o.owner_org AS deal_org, o.customer_name, o.amount_base, o.product_line,
       b.customer_name AS other_customer_name, b.owner_rep_id AS other_rep_id, b.owner_org AS other_org,
       l.decision, l.winner_registrant, l.winner_opportunity_id, l.note, l.ruled_by, l.ruled_at,
       l.ruling_id IS NOT NULL AS ruled, coalesce(l.rulings, 0) AS rulings
FROM scoped.mart_collisions(scope_all, scope_org, scope_rep, one_deal := one_deal) m
JOIN facts.opportunities o ON o.opportunity_id = m.opportunity_id
JOIN facts.opportunities b ON b.opportunity_id = m.conflicts_with_opportunity_id
LEFT JOIN ruled l ON l.opportunity_id = m.opportunity_id AND l.conflicts_with_opportunity_id = m.conflicts_with_opportunity_id;

-- @ name=mart_funnel needs=main.mart_funnel,facts.org_paths
-- Unit-level figures: visible to a scope whose subtree holds the unit; the
-- company ('all') to everything-scopes only.
CREATE OR REPLACE MACRO scoped.mart_funnel(scope_all, scope_org, scope_rep) AS TABLE
SELECT m.* FROM main.mart_funnel m WHERE scoped.sees_unit(m.org_unit_id, scope_all, scope_org);
-- @ name=mart_velocity needs=main.mart_velocity,facts.org_paths
CREATE OR REPLACE MACRO scoped.mart_velocity(scope_all, scope_org, scope_rep) AS TABLE
SELECT m.* FROM main.mart_velocity m WHERE scoped.sees_unit(m.org_unit_id, scope_all, scope_org);
-- @ name=mart_forecast needs=main.mart_forecast,facts.org_paths
CREATE OR REPLACE MACRO scoped.mart_forecast(scope_all, scope_org, scope_rep) AS TABLE
SELECT m.* FROM main.mart_forecast m WHERE scoped.sees_unit(m.org_unit_id, scope_all, scope_org);
-- @ name=mart_pipeline_trend needs=main.mart_pipeline_trend,facts.org_paths
-- Sums of a rep's deals: visible to the rep and to scopes holding the rep's
-- unit; deals naming no rep (owner_rep_id and org_unit_id NULL) to
-- everything-scopes only.
CREATE OR REPLACE MACRO scoped.mart_pipeline_trend(scope_all, scope_org, scope_rep) AS TABLE
SELECT m.* FROM main.mart_pipeline_trend m WHERE scoped.sees(m.owner_rep_id, m.org_unit_id, scope_all, scope_org, scope_rep);
-- @ name=mart_receivables_aging needs=main.mart_receivables_aging,facts.org_paths
-- By unit and rep: visible to the rep and to scopes holding the unit.
CREATE OR REPLACE MACRO scoped.mart_receivables_aging(scope_all, scope_org, scope_rep) AS TABLE
SELECT m.* FROM main.mart_receivables_aging m WHERE scoped.sees(m.owner_rep_id, m.org_unit_id, scope_all, scope_org, scope_rep);
-- @ name=mart_rep_performance needs=main.mart_rep_performance,facts.org_paths
CREATE OR REPLACE MACRO scoped.mart_rep_performance(scope_all, scope_org, scope_rep) AS TABLE
SELECT m.* FROM main.mart_rep_performance m WHERE scoped.sees(m.rep_id, m.org_unit_id, scope_all, scope_org, scope_rep);
-- @ name=mart_calendar needs=main.mart_calendar
-- The working-day calendar of the targets (days off and make-up working days
-- 调休 of the holiday file): reference data, the same for every user. Working
-- days from a to b = workdays_through at b − workdays_before at a.
CREATE OR REPLACE MACRO scoped.mart_calendar(scope_all, scope_org, scope_rep) AS TABLE
SELECT * FROM main.mart_calendar;

-- @ name=mart_targets needs=main.mart_targets,live.reps,facts.org_paths
-- A rep's targets and actuals to the rep and the scopes holding the rep's unit; a unit's to the scopes holding it.
CREATE OR REPLACE MACRO scoped.mart_targets(scope_all, scope_org, scope_rep) AS TABLE
SELECT m.* FROM main.mart_targets m LEFT JOIN live.reps r ON m.scope = 'rep' AND r.rep_id = m.scope_id
WHERE CASE WHEN m.scope = 'rep' THEN scoped.sees(m.scope_id, r.org_unit_id, scope_all, scope_org, scope_rep)
           ELSE scoped.sees_unit(m.scope_id, scope_all, scope_org) END;
-- @ name=mart_targets_monthly needs=main.mart_targets_monthly,live.reps,facts.org_paths
CREATE OR REPLACE MACRO scoped.mart_targets_monthly(scope_all, scope_org, scope_rep) AS TABLE
SELECT m.* FROM main.mart_targets_monthly m LEFT JOIN live.reps r ON m.scope = 'rep' AND r.rep_id = m.scope_id
WHERE CASE WHEN m.scope = 'rep' THEN scoped.sees(m.scope_id, r.org_unit_id, scope_all, scope_org, scope_rep)
           ELSE scoped.sees_unit(m.scope_id, scope_all, scope_org) END;

-- @ name=mart_win_rate needs=main.mart_win_rate
-- Company-wide groupings (by industry, competitor, stage across owners):
-- only for everything-scopes.
CREATE OR REPLACE MACRO scoped.mart_win_rate(scope_all, scope_org, scope_rep) AS TABLE
SELECT m.* FROM main.mart_win_rate m WHERE coalesce(scope_all, false);
-- @ name=mart_win_rate_by_stage needs=main.mart_win_rate_by_stage
CREATE OR REPLACE MACRO scoped.mart_win_rate_by_stage(scope_all, scope_org, scope_rep) AS TABLE
SELECT m.* FROM main.mart_win_rate_by_stage m WHERE coalesce(scope_all, false);
-- @ name=mart_close_reasons needs=main.mart_close_reasons
CREATE OR REPLACE MACRO scoped.mart_close_reasons(scope_all, scope_org, scope_rep) AS TABLE
SELECT m.* FROM main.mart_close_reasons m WHERE coalesce(scope_all, false);
-- @ name=mart_forecast_accuracy needs=main.mart_forecast_accuracy
CREATE OR REPLACE MACRO scoped.mart_forecast_accuracy(scope_all, scope_org, scope_rep) AS TABLE
SELECT m.* FROM main.mart_forecast_accuracy m WHERE coalesce(scope_all, false);
-- @ name=mart_market_funnel needs=main.mart_market_funnel
CREATE OR REPLACE MACRO scoped.mart_market_funnel(scope_all, scope_org, scope_rep) AS TABLE
SELECT m.* FROM main.mart_market_funnel m WHERE coalesce(scope_all, false);

-- @ name=alerts needs=main.mart_alerts.amount_at_risk,main.mart_alerts,facts.customer_owners,facts.contracts,facts.opportunities,facts.org_paths
-- Alerts with their subject's customer and owner, each visible by its
-- subject: a customer's (computed from its payments) for a wholly visible
-- customer; a contract's or a deal's with the contract or deal; a unit's to
-- scopes holding the unit. amount_at_risk: the money at risk they are ranked by.
-- one_customer: the alerts about that customer, its contracts and its deals
-- only (NULL: all), their visibility decided for them alone (a customer's
-- page).
CREATE OR REPLACE MACRO scoped.alerts(scope_all, scope_org, scope_rep, one_customer := NULL) AS TABLE
SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, m.amount_at_risk, cu.customer_id, cu.customer_name AS subject_name, cu.owner_rep_id, cu.owner_org
FROM main.mart_alerts m JOIN facts.customers cu ON cu.customer_id = m.subject_id
WHERE m.subject_type = 'customer' AND coalesce(scope_all, false) AND (one_customer IS NULL OR m.subject_id = one_customer)
UNION ALL
SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, m.amount_at_risk, cu.customer_id, cu.customer_name AS subject_name, cu.owner_rep_id, cu.owner_org
FROM main.mart_alerts m JOIN facts.customers cu ON cu.customer_id = m.subject_id
WHERE m.subject_type = 'customer' AND NOT coalesce(scope_all, false) AND (one_customer IS NULL OR m.subject_id = one_customer)
  AND m.subject_id IN (SELECT v.customer_id FROM scoped.visible_customers(scope_all, scope_org, scope_rep, ['customer', 'payment'], one_customer := one_customer) v)
UNION ALL
SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, m.amount_at_risk, c.customer_id, c.customer_name, c.owner_rep_id, c.owner_org
FROM main.mart_alerts m JOIN scoped.contract_facts(scope_all, scope_org, scope_rep, one_customer := one_customer) c ON c.contract_id = m.subject_id
WHERE m.subject_type = 'contract'
UNION ALL
SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, m.amount_at_risk, o.customer_id, o.customer_name, o.owner_rep_id, o.owner_org
FROM main.mart_alerts m JOIN scoped.opportunity_facts(scope_all, scope_org, scope_rep, one_customer := one_customer) o ON o.opportunity_id = m.subject_id
WHERE m.subject_type = 'opportunity'
UNION ALL
SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, m.amount_at_risk, NULL, u.name, NULL, m.subject_id
FROM main.mart_alerts m LEFT JOIN live.org_units u ON u.org_unit_id = m.subject_id
WHERE m.subject_type = 'org_unit' AND one_customer IS NULL AND scoped.sees_unit(m.subject_id, scope_all, scope_org);
-- @ name=alerts absent=main.mart_alerts.amount_at_risk needs=main.mart_alerts,facts.customer_owners,facts.contracts,facts.opportunities,facts.org_paths
-- The same over a mart_alerts computed before the money at risk existed
-- (until the next refresh): amount_at_risk NULL.
CREATE OR REPLACE MACRO scoped.alerts(scope_all, scope_org, scope_rep, one_customer := NULL) AS TABLE
SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, CAST(NULL AS DECIMAL(18,2)) AS amount_at_risk, cu.customer_id, cu.customer_name AS subject_name, cu.owner_rep_id, cu.owner_org
FROM main.mart_alerts m JOIN facts.customers cu ON cu.customer_id = m.subject_id
WHERE m.subject_type = 'customer' AND coalesce(scope_all, false) AND (one_customer IS NULL OR m.subject_id = one_customer)
UNION ALL
SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, CAST(NULL AS DECIMAL(18,2)) AS amount_at_risk, cu.customer_id, cu.customer_name AS subject_name, cu.owner_rep_id, cu.owner_org
FROM main.mart_alerts m JOIN facts.customers cu ON cu.customer_id = m.subject_id
WHERE m.subject_type = 'customer' AND NOT coalesce(scope_all, false) AND (one_customer IS NULL OR m.subject_id = one_customer)
  AND m.subject_id IN (SELECT v.customer_id FROM scoped.visible_customers(scope_all, scope_org, scope_rep, ['customer', 'payment'], one_customer := one_customer) v)
UNION ALL
SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, CAST(NULL AS DECIMAL(18,2)) AS amount_at_risk, c.customer_id, c.customer_name, c.owner_rep_id, c.owner_org
FROM main.mart_alerts m JOIN scoped.contract_facts(scope_all, scope_org, scope_rep, one_customer := one_customer) c ON c.contract_id = m.subject_id
WHERE m.subject_type = 'contract'
UNION ALL
SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, CAST(NULL AS DECIMAL(18,2)) AS amount_at_risk, o.customer_id, o.customer_name, o.owner_rep_id, o.owner_org
FROM main.mart_alerts m JOIN scoped.opportunity_facts(scope_all, scope_org, scope_rep, one_customer := one_customer) o ON o.opportunity_id = m.subject_id
WHERE m.subject_type = 'opportunity'
UNION ALL
SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, CAST(NULL AS DECIMAL(18,2)) AS amount_at_risk, NULL, u.name, NULL, m.subject_id
FROM main.mart_alerts m LEFT JOIN live.org_units u ON u.org_unit_id = m.subject_id
WHERE m.subject_type = 'org_unit' AND one_customer IS NULL AND scoped.sees_unit(m.subject_id, scope_all, scope_org);
-- @ name=mart_alerts needs=main.mart_alerts,facts.customer_owners,facts.contracts,facts.opportunities,facts.org_paths
-- The alerts model's table, rows visible by the same rule as scoped.alerts.
CREATE OR REPLACE MACRO scoped.mart_alerts(scope_all, scope_org, scope_rep) AS TABLE
SELECT m.* FROM main.mart_alerts m
SEMI JOIN scoped.alerts(scope_all, scope_org, scope_rep) a ON a.subject_type = m.subject_type AND a.subject_id = m.subject_id AND a.kind = m.kind;

-- ---- Company benchmarks: the same for everyone, labelled as such ----

-- @ name=benchmark_stage_days needs=main.mart_funnel benchmark=stage_days
-- The company's median and 75th percentile days in each stage (funnel model).
CREATE OR REPLACE MACRO scoped.benchmark_stage_days(scope_all, scope_org, scope_rep) AS TABLE
SELECT stage, position, days_median, days_p75 FROM main.mart_funnel WHERE org_unit_id = 'all';
-- @ name=benchmark_win_rate needs=main.mart_win_rate benchmark=win_rate
-- The company's win rate by month (won / (won + lost), Wilson 95 % interval).
CREATE OR REPLACE MACRO scoped.benchmark_win_rate(scope_all, scope_org, scope_rep) AS TABLE
SELECT period, won, lost, win_rate, amount_win_rate, ci_low, ci_high FROM main.mart_win_rate WHERE dimension = 'all';
-- @ name=benchmark_forecast_accuracy needs=main.mart_forecast_accuracy benchmark=forecast_accuracy
-- How accurate each forecast method was on the company's own past (backtest WAPE).
CREATE OR REPLACE MACRO scoped.benchmark_forecast_accuracy(scope_all, scope_org, scope_rep) AS TABLE
SELECT * FROM main.mart_forecast_accuracy;
