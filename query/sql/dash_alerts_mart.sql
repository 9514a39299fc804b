-- When the alerts model has run (mart_alerts exists): every alert with the
-- owner of its subject (customer, contract, deal or org unit), for the data
-- scope, and the subject's customer and name. An org-unit alert belongs to the
-- unit. Without mart_alerts, dash.sql defines the same columns with no rows.
CREATE OR REPLACE MACRO dash.alerts(base) AS TABLE
SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, cu.customer_id, cu.customer_name AS subject_name, cu.owner_rep_id, cu.owner_org
FROM main.mart_alerts m LEFT JOIN dash.customers() cu ON cu.customer_id = m.subject_id
WHERE m.subject_type = 'customer'
UNION ALL
SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, c.customer_id, c.customer_name, c.owner_rep_id, c.owner_org
FROM main.mart_alerts m LEFT JOIN dash.contracts(base) c ON c.contract_id = m.subject_id
WHERE m.subject_type = 'contract'
UNION ALL
SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, o.customer_id, o.customer_name, o.owner_rep_id, o.owner_org
FROM main.mart_alerts m LEFT JOIN dash.opportunities(base) o ON o.opportunity_id = m.subject_id
WHERE m.subject_type = 'opportunity'
UNION ALL
SELECT m.kind, m.severity, m.subject_type, m.subject_id, m.detail, m.since, NULL, u.name, NULL, m.subject_id
FROM main.mart_alerts m LEFT JOIN live.org_units u ON u.org_unit_id = m.subject_id
WHERE m.subject_type = 'org_unit';
