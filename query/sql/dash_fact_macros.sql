-- With the fact tables (dash_facts.sql): dash.contracts(base),
-- dash.payments(base) and dash.opportunities(base) read them for the base
-- currency they were built in ({{.Base}}) and compute any other base on the
-- call. The base is written into the macro, so that DuckDB drops the branch
-- that does not apply before running anything.
CREATE OR REPLACE MACRO dash.contracts(base) AS TABLE
SELECT * FROM dash.contract_facts WHERE base = '{{.Base}}'
UNION ALL
SELECT * FROM dash.contracts_computed(base) WHERE base <> '{{.Base}}';

CREATE OR REPLACE MACRO dash.payments(base) AS TABLE
SELECT * FROM dash.payment_facts WHERE base = '{{.Base}}'
UNION ALL
SELECT * FROM dash.payments_computed(base) WHERE base <> '{{.Base}}';

CREATE OR REPLACE MACRO dash.opportunities(base) AS TABLE
SELECT * FROM dash.opportunity_facts WHERE base = '{{.Base}}'
UNION ALL
SELECT * FROM dash.opportunities_computed(base) WHERE base <> '{{.Base}}';

CREATE OR REPLACE MACRO dash.activities() AS TABLE
SELECT * FROM dash.activity_facts;
