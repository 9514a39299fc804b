-- 0006: schema live, one view per base table without the rows a snapshot load
-- marked deleted (_deleted_at set). Models, dashboards, reports and ad hoc SQL
-- read base tables only through these views: live.payments, not main.payments.
-- DuckDB checks a view's columns against those it had when created: a later
-- migration that adds a column to a base table must recreate its view here.
-- (IF NOT EXISTS and OR REPLACE: the dashboards of earlier versions created
-- the same views at start.)

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
