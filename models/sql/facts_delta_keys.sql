-- The keys of the facts rows that the loads after load {{.Since}} can have
-- changed (facts.sql with .Delta rebuilds exactly these). A base row carries
-- the load that last wrote it (_load_id: inserted, updated, restored, or
-- marked deleted by a snapshot: read from main, not live, so that deleted
-- rows are found too). A fact row also changes when a row it joins changed:
--   customer  its customer row, or its owner rep (owner_org is the rep's unit)
--   deal      its row, customer, rep, product, partner or stage
--   contract  its row, customer, deal or rep
--   payment   its row, customer or contract
--   activity  its row, customer or rep
--   expense   its row, customer, contract or deal
--   any row in a currency other than the base one: an fx rate of that
--             currency on or before its date (the facts convert at the
--             latest rate on or before it)
-- org_units feed only facts.org_paths, rebuilt whole when they changed.
CREATE OR REPLACE TEMP TABLE fd_reps AS SELECT DISTINCT rep_id FROM main.reps WHERE _load_id > {{.Since}};
CREATE OR REPLACE TEMP TABLE fd_products AS SELECT DISTINCT product_id FROM main.products WHERE _load_id > {{.Since}};
CREATE OR REPLACE TEMP TABLE fd_partners AS SELECT DISTINCT partner_id FROM main.partners WHERE _load_id > {{.Since}};
CREATE OR REPLACE TEMP TABLE fd_stages AS SELECT DISTINCT stage FROM main.stages WHERE _load_id > {{.Since}};

-- A rate loaded, edited or deleted (main holds the deleted ones too) moves
-- the conversion of the rows of its currency dated on or after it, up to
-- the next rate: from each currency's earliest changed date on (the dates
-- as the ASOF joins of facts.sql compare them). A daily rate costs the
-- day's rows, not a rebuild of the facts.
CREATE OR REPLACE TEMP TABLE fd_fx AS
SELECT currency, min(on_date) AS since_on FROM main.fx_rates WHERE _load_id > {{.Since}} GROUP BY currency;

CREATE OR REPLACE TEMP TABLE fd_customers AS
SELECT customer_id FROM main.customers WHERE _load_id > {{.Since}}
UNION SELECT customer_id FROM live.customers WHERE owner_rep_id IN (SELECT rep_id FROM fd_reps);

CREATE OR REPLACE TEMP TABLE fd_opportunities AS
SELECT opportunity_id FROM main.opportunities WHERE _load_id > {{.Since}}
UNION SELECT opportunity_id FROM live.opportunities
WHERE customer_id IN (SELECT customer_id FROM fd_customers)
   OR owner_rep_id IN (SELECT rep_id FROM fd_reps)
   OR product_id IN (SELECT product_id FROM fd_products)
   OR partner_id IN (SELECT partner_id FROM fd_partners)
   OR stage IN (SELECT stage FROM fd_stages)
UNION SELECT o.opportunity_id FROM live.opportunities o JOIN fd_fx x ON x.currency = o.currency AND CAST(o.created_at AS DATE) >= x.since_on;

CREATE OR REPLACE TEMP TABLE fd_contracts AS
SELECT contract_id FROM main.contracts WHERE _load_id > {{.Since}}
UNION SELECT contract_id FROM live.contracts
WHERE customer_id IN (SELECT customer_id FROM fd_customers)
   OR opportunity_id IN (SELECT opportunity_id FROM fd_opportunities)
   OR owner_rep_id IN (SELECT rep_id FROM fd_reps)
UNION SELECT c.contract_id FROM live.contracts c JOIN fd_fx x ON x.currency = c.currency AND c.signed_on >= x.since_on;

CREATE OR REPLACE TEMP TABLE fd_payments AS
SELECT payment_id FROM main.payments WHERE _load_id > {{.Since}}
UNION SELECT payment_id FROM live.payments
WHERE customer_id IN (SELECT customer_id FROM fd_customers)
   OR contract_id IN (SELECT contract_id FROM fd_contracts)
UNION SELECT p.payment_id FROM live.payments p JOIN fd_fx x ON x.currency = p.currency AND p.paid_on >= x.since_on;

CREATE OR REPLACE TEMP TABLE fd_activities AS
SELECT activity_id FROM main.activities WHERE _load_id > {{.Since}}
UNION SELECT activity_id FROM live.activities
WHERE customer_id IN (SELECT customer_id FROM fd_customers)
   OR rep_id IN (SELECT rep_id FROM fd_reps);

CREATE OR REPLACE TEMP TABLE fd_expenses AS
SELECT expense_id FROM main.expenses WHERE _load_id > {{.Since}}
UNION SELECT expense_id FROM live.expenses
WHERE customer_id IN (SELECT customer_id FROM fd_customers)
   OR contract_id IN (SELECT contract_id FROM fd_contracts)
   OR opportunity_id IN (SELECT opportunity_id FROM fd_opportunities)
UNION SELECT e.expense_id FROM live.expenses e JOIN fd_fx x ON x.currency = e.currency AND e.incurred_on >= x.since_on;

-- The changed rows themselves, as tables: facts.sql joins them to the other
-- entities, and DuckDB builds a join's hash table on the side it knows to
-- be the smaller. Written as subqueries over live.*, the changed rows were
-- estimated as many as the whole table, and every join hashed the other
-- side: for the two payments of a two-row load into the large demo company,
-- its 2.4 M contracts, 1.6 M customers and 6.9 M deals (1.75 s, against
-- 0.61 s with the two rows in a table).
CREATE OR REPLACE TEMP TABLE fd_rows_customers AS SELECT * FROM live.customers WHERE customer_id IN (SELECT customer_id FROM fd_customers);
CREATE OR REPLACE TEMP TABLE fd_rows_contracts AS SELECT * FROM live.contracts WHERE contract_id IN (SELECT contract_id FROM fd_contracts);
CREATE OR REPLACE TEMP TABLE fd_rows_payments AS SELECT * FROM live.payments WHERE payment_id IN (SELECT payment_id FROM fd_payments);
CREATE OR REPLACE TEMP TABLE fd_rows_opportunities AS SELECT * FROM live.opportunities WHERE opportunity_id IN (SELECT opportunity_id FROM fd_opportunities);
CREATE OR REPLACE TEMP TABLE fd_rows_activities AS SELECT * FROM live.activities WHERE activity_id IN (SELECT activity_id FROM fd_activities);
CREATE OR REPLACE TEMP TABLE fd_rows_expenses AS SELECT * FROM live.expenses WHERE expense_id IN (SELECT expense_id FROM fd_expenses);

-- The customers whose facts.customer_owners rows can change: those of the
-- changed rows as the facts hold them now (a payment moved to another
-- customer leaves its old customer); facts.sql adds those after the delta.
CREATE OR REPLACE TEMP TABLE fd_owner_customers AS
SELECT customer_id FROM fd_customers
UNION SELECT customer_id FROM facts.contracts WHERE contract_id IN (SELECT contract_id FROM fd_contracts)
UNION SELECT customer_id FROM facts.payments WHERE payment_id IN (SELECT payment_id FROM fd_payments)
UNION SELECT customer_id FROM facts.opportunities WHERE opportunity_id IN (SELECT opportunity_id FROM fd_opportunities)
UNION SELECT customer_id FROM facts.activities WHERE activity_id IN (SELECT activity_id FROM fd_activities)
UNION SELECT customer_id FROM facts.expenses WHERE expense_id IN (SELECT expense_id FROM fd_expenses);

-- The customers whose facts.paying_months rows can change: those of the
-- changed payments as the facts hold them now; facts.sql adds those after
-- the delta.
CREATE OR REPLACE TEMP TABLE fd_payment_customers AS
SELECT customer_id FROM facts.payments WHERE payment_id IN (SELECT payment_id FROM fd_payments);

-- The months whose facts.collection_months rows can change: those of the
-- changed payments as the facts hold them now; facts.sql adds those after
-- the delta.
CREATE OR REPLACE TEMP TABLE fd_payment_months AS
SELECT DISTINCT CAST(date_trunc('month', paid_on) AS DATE) AS month FROM facts.payments WHERE payment_id IN (SELECT payment_id FROM fd_payments);

-- The payments the loads moved to another customer or contract, or deleted,
-- with the customer and contract the facts held them under before: the
-- models' per-key caches learn from facts.payment_changes (facts.sql) which
-- keys lost a payment, with no map of every payment's keys of their own.
-- Only rows the loads wrote can move (a payment's customer and contract are
-- its own), and fd_rows_payments holds their new values.
CREATE OR REPLACE TEMP TABLE fd_payment_moves AS
SELECT DISTINCT b.customer_id, b.contract_id
FROM facts.payments b
LEFT JOIN fd_rows_payments p ON p.payment_id = b.payment_id
WHERE b.payment_id IN (SELECT payment_id FROM main.payments WHERE _load_id > {{.Since}})
  AND (p.payment_id IS NULL OR p.customer_id IS DISTINCT FROM b.customer_id OR p.contract_id IS DISTINCT FROM b.contract_id);
