-- When the targets model has run (mart_targets_monthly exists), targets come
-- from it: the targets set at any level broken down to the levels below
-- (models.targets.rule) unless a lower level has its own, per month.
-- Same columns as the definition from the targets table in dash.sql.
CREATE OR REPLACE MACRO dash.targets() AS TABLE
SELECT t.scope, t.scope_id,
       CAST(t.month || '-01' AS DATE) AS period_start,
       CAST(last_day(CAST(t.month || '-01' AS DATE)) AS DATE) AS period_end,
       t.metric, t.target AS amount,
       CASE WHEN t.scope = 'rep' THEN t.scope_id END AS owner_rep_id,
       CASE WHEN t.scope = 'rep' THEN r.org_unit_id ELSE t.scope_id END AS owner_org
FROM main.mart_targets_monthly t
LEFT JOIN live.reps r ON t.scope = 'rep' AND r.rep_id = t.scope_id;
