-- The fact tables behind dash.contracts(base), dash.payments(base),
-- dash.opportunities(base) (for the server's base currency, {{.Base}}) and
-- dash.activities(): each
-- row with its owner, dimensions and base amount, as the *_computed macros of
-- dash.sql return them, stored so that a chart scans one table instead of
-- joining the base tables on every call (on the large demo company a year's
-- collections by org unit: 4.3 s computed, 0.2 s from the table).
-- The server rebuilds them, in one transaction, when a load committed since
-- the last build (dash.facts_state.load_id) or when these definitions
-- changed; until the new tables commit, charts read the previous ones.
-- Ordered by date, so that a chart of one period skips the other row groups.
CREATE OR REPLACE TABLE dash.contract_facts AS
SELECT * FROM dash.contracts_computed('{{.Base}}') ORDER BY signed_on;

CREATE OR REPLACE TABLE dash.payment_facts AS
SELECT * FROM dash.payments_computed('{{.Base}}') ORDER BY paid_on;

CREATE OR REPLACE TABLE dash.opportunity_facts AS
SELECT * FROM dash.opportunities_computed('{{.Base}}') ORDER BY created_on;

CREATE OR REPLACE TABLE dash.activity_facts AS
SELECT * FROM dash.activities_computed() ORDER BY occurred_on;

CREATE OR REPLACE TABLE dash.facts_state AS
SELECT CAST({{.LoadID}} AS BIGINT) AS load_id, '{{.Base}}' AS base_currency,
       '{{.Definition}}' AS definition, now() AS built_at;
