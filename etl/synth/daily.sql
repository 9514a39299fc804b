-- A day of business after the company's last day, as a CRM's daily export
-- would carry it: new payments, deals, stage moves (some closing, the won
-- ones signing a contract), activities and expenses, and a few edits of
-- customers and contracts. Each new row copies an existing row of its
-- entity (so its columns look like the company's) with a new key and the
-- new day; which rows are picked follows hash(key, seed): the same
-- warehouse and seed give the same load. Counts are shares of each table
-- (.Share: 0.005 is half a percent). {{.Day}} is the day (DATE literal),
-- {{.Seed}} the seed, {{.Tag}} the prefix of the new keys.

CREATE OR REPLACE TEMP MACRO dl_pick(key) AS hash(key || '/{{.Seed}}');
CREATE OR REPLACE TEMP MACRO dl_n(tbl_rows, share) AS greatest(1, CAST(round(tbl_rows * share) AS BIGINT));
CREATE OR REPLACE TEMP MACRO dl_at(i) AS CAST({{.Day}} AS TIMESTAMPTZ) + to_minutes(CAST(540 + i % 540 AS BIGINT));

-- payments on active contracts
CREATE OR REPLACE TEMP TABLE dl_payments AS
SELECT p.* EXCLUDE (_load_id, rn) REPLACE ('{{.Tag}}P-' || rn AS payment_id, {{.Day}} AS paid_on)
FROM (SELECT p.*, row_number() OVER (ORDER BY dl_pick(p.payment_id)) AS rn
      FROM live.payments p JOIN live.contracts c ON c.contract_id = p.contract_id AND c.status = 'active'
      WHERE p.amount > 0) p
WHERE rn <= dl_n((SELECT count(*) FROM live.payments), {{.Share}});

-- stage moves of open deals: to the next open stage, or from the last open
-- stage to won or lost
CREATE OR REPLACE TEMP TABLE dl_moves AS
WITH open_stages AS (SELECT stage, position FROM live.stages WHERE NOT is_closed),
     picked AS (
        SELECT o.*, row_number() OVER (ORDER BY dl_pick(o.opportunity_id)) AS rn
        FROM live.opportunities o WHERE o.status = 'open')
SELECT p.opportunity_id, p.rn,
       coalesce((SELECT n.stage FROM open_stages n, open_stages c WHERE c.stage = p.stage AND n.position > c.position ORDER BY n.position LIMIT 1),
                CASE WHEN p.rn % 3 = 0 THEN 'won' ELSE 'lost' END) AS next_stage
FROM picked p
WHERE rn <= dl_n((SELECT count(*) FROM live.opportunities), {{.Share}});

CREATE OR REPLACE TEMP TABLE dl_new_deals AS
SELECT o.* EXCLUDE (_load_id, rn) REPLACE (
           '{{.Tag}}O-' || rn AS opportunity_id,
           (SELECT stage FROM live.stages WHERE NOT is_closed ORDER BY position LIMIT 1) AS stage,
           NULL AS probability, dl_at(rn) AS created_at, {{.Day}} + 60 AS expected_close_on,
           NULL AS closed_on, 'open' AS status, NULL AS close_reason, dl_at(rn) AS updated_at)
FROM (SELECT *, row_number() OVER (ORDER BY dl_pick(opportunity_id)) AS rn FROM live.opportunities) o
WHERE rn <= dl_n((SELECT count(*) FROM live.opportunities), {{.Share}});

CREATE OR REPLACE TEMP TABLE dl_opportunities AS
SELECT o.* EXCLUDE (_load_id) REPLACE (
           m.next_stage AS stage,
           CASE WHEN m.next_stage IN ('won', 'lost') THEN NULL ELSE o.probability END AS probability,
           CASE WHEN m.next_stage IN ('won', 'lost') THEN {{.Day}} END AS closed_on,
           CASE m.next_stage WHEN 'won' THEN 'won' WHEN 'lost' THEN 'lost' ELSE 'open' END AS status,
           CASE m.next_stage WHEN 'won' THEN 'relationship' WHEN 'lost' THEN 'price' END AS close_reason,
           dl_at(m.rn) AS updated_at)
FROM live.opportunities o JOIN dl_moves m USING (opportunity_id)
UNION ALL BY NAME
SELECT * FROM dl_new_deals;

CREATE OR REPLACE TEMP TABLE dl_opportunity_stages AS
SELECT opportunity_id, next_stage AS stage, dl_at(rn) AS entered_at FROM dl_moves
UNION ALL
SELECT opportunity_id, stage, created_at FROM dl_new_deals;

-- the won deals sign a contract (due in full on signing: no plan lines), and
-- a few active contracts complete
CREATE OR REPLACE TEMP TABLE dl_contracts AS
SELECT c.* EXCLUDE (_load_id) REPLACE (
           '{{.Tag}}C-' || m.rn AS contract_id, o.opportunity_id AS opportunity_id, o.customer_id AS customer_id,
           o.owner_rep_id AS owner_rep_id, {{.Day}} AS signed_on, {{.Day}} AS start_on, {{.Day}} + 365 AS end_on,
           o.amount AS amount, o.currency AS currency, 'active' AS status)
FROM dl_moves m
JOIN live.opportunities o USING (opportunity_id)
JOIN (SELECT * FROM live.contracts ORDER BY dl_pick(contract_id) LIMIT 1) c ON true
WHERE m.next_stage = 'won' AND o.amount IS NOT NULL
UNION ALL
SELECT c.* EXCLUDE (_load_id, rn) REPLACE ('completed' AS status)
FROM (SELECT *, row_number() OVER (ORDER BY dl_pick(contract_id)) AS rn FROM live.contracts WHERE status = 'active') c
WHERE rn <= dl_n((SELECT count(*) FROM live.contracts), {{.Share}} / 2);

CREATE OR REPLACE TEMP TABLE dl_activities AS
SELECT a.* EXCLUDE (_load_id, rn) REPLACE ('{{.Tag}}A-' || rn AS activity_id, dl_at(rn) AS occurred_at)
FROM (SELECT *, row_number() OVER (ORDER BY dl_pick(activity_id)) AS rn FROM live.activities) a
WHERE rn <= dl_n((SELECT count(*) FROM live.activities), {{.Share}});

CREATE OR REPLACE TEMP TABLE dl_expenses AS
SELECT e.* EXCLUDE (_load_id, rn) REPLACE ('{{.Tag}}E-' || rn AS expense_id, {{.Day}} AS incurred_on)
FROM (SELECT *, row_number() OVER (ORDER BY dl_pick(expense_id)) AS rn FROM live.expenses) e
WHERE rn <= dl_n((SELECT count(*) FROM live.expenses), {{.Share}});

-- a few customers change size band
CREATE OR REPLACE TEMP TABLE dl_customers AS
SELECT c.* EXCLUDE (_load_id, rn) REPLACE (
           CASE coalesce(size_band, '') WHEN 'micro' THEN 'small' WHEN 'small' THEN 'medium' WHEN 'medium' THEN 'large'
                WHEN 'large' THEN 'enterprise' ELSE 'micro' END AS size_band)
FROM (SELECT *, row_number() OVER (ORDER BY dl_pick(customer_id)) AS rn FROM live.customers) c
WHERE rn <= dl_n((SELECT count(*) FROM live.customers), {{.Share}} / 5);
